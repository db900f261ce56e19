// Bounded input: only regular files, capped sizes, capped TOML nesting, and
// output that stays valid UTF-8 / valid JSON whatever bytes came in.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "common/diagnostics.h"
#include "common/input_file.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "common/toml_reader.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::testing;

TEST_CASE("ReadInputFile reads a regular file whole") {
  TempDir dir;
  WriteText(dir / "a.toml", "x = 1\n");
  auto r = ReadInputFile(dir / "a.toml", 100);
  REQUIRE(r.ok());
  CHECK(*r == "x = 1\n");
}

TEST_CASE("ReadInputFile refuses devices, FIFOs and folders as input errors") {
  auto r = ReadInputFile("/dev/zero", kMaxTomlBytes);
  REQUIRE(!r.ok());
  CHECK(r.error().code() == ExitCode::kInput);
  CHECK(r.error().message() == "/dev/zero: not a regular file (a character device); give the path of a file");

  TempDir dir;
  std::string fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto start = std::chrono::steady_clock::now();
  r = ReadInputFile(fifo, kMaxTomlBytes);  // no writer: must not block
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  REQUIRE(!r.ok());
  CHECK(r.error().message() == fifo + ": not a regular file (a FIFO); give the path of a file");

  r = ReadInputFile(dir.path(), kMaxTomlBytes);
  REQUIRE(!r.ok());
  CHECK(r.error().code() == ExitCode::kInput);
}

TEST_CASE("ReadInputFile names the file and the cap when a file is too big") {
  TempDir dir;
  WriteText(dir / "big.toml", std::string(2049, 'x'));
  auto r = ReadInputFile(dir / "big.toml", 2048);
  REQUIRE(!r.ok());
  CHECK(r.error().code() == ExitCode::kInput);
  CHECK(r.error().message() ==
        dir / "big.toml" + ": is 2049 bytes; input files of this kind are capped at 2 KiB (is this the right file?)");
  CHECK(ReadInputFile(dir / "big.toml", 2049).ok());
}

TEST_CASE("a missing input file is an input error (exit 2)") {
  auto r = ReadInputFile("/nonexistent-slipway/plan.json", kMaxJsonBytes);
  REQUIRE(!r.ok());
  CHECK(r.error().code() == ExitCode::kInput);
}

TEST_CASE("deeply nested TOML is refused before toml++ parses it") {
  std::string header = "[a";
  for (int i = 0; i < 100000; ++i) header += ".a";
  header += "]\nx = 1\n";
  Diagnostics d;
  CHECK(!ParseTomlText(header, "deep.toml", &d));
  REQUIRE(d.items().size() == 1);
  CHECK(FormatDiagnostic(d.items()[0]).starts_with("deep.toml:1:65: error: TOML nesting deeper than 32 levels"));

  Diagnostics d2;
  std::string arrays = "x = " + std::string(200000, '[');
  CHECK(!ParseTomlText(arrays, "arrays.toml", &d2));
  REQUIRE(d2.items().size() == 1);
  CHECK(FormatDiagnostic(d2.items()[0]).starts_with("arrays.toml:1:37: error: TOML nesting deeper than 32 levels"));

  Diagnostics d3;
  std::string tables = "x = ";
  for (int i = 0; i < 50000; ++i) tables += "{a=";
  CHECK(!ParseTomlText(tables, "inline.toml", &d3));
  CHECK(d3.items().size() == 1);
}

TEST_CASE("brackets and dots inside strings and comments do not count as nesting") {
  std::string text = "x = \"" + std::string(100, '[') + std::string(100, '.') + "\"\ny = '" + std::string(100, '{') +
                     "'\nz = \"\"\"\n" + std::string(100, '[') + "\n\"\"\"\n# " + std::string(100, '[') +
                     "\nw = [[1, 2], [3.5, 4.5, 5.5, 6.5]]\n[a.b.c]\nv = 1\n";
  Diagnostics d;
  auto t = ParseTomlText(text, "ok.toml", &d);
  for (const Diagnostic& x : d.items()) INFO(FormatDiagnostic(x));
  CHECK(t.has_value());
  CHECK(!d.HasErrors());
}

TEST_CASE("SanitizeForDisplay keeps valid UTF-8 and escapes broken bytes and controls") {
  CHECK(SanitizeForDisplay("plain") == "plain");
  CHECK(SanitizeForDisplay("gr\xC3\xBC\xC3\x9F") == "gr\xC3\xBC\xC3\x9F");        // "grüß"
  CHECK(SanitizeForDisplay("\xF0\x9F\x9A\xA2 ship") == "\xF0\x9F\x9A\xA2 ship");  // 4-byte emoji
  CHECK(SanitizeForDisplay("x\xC3") == "x\\xC3");                                 // truncated sequence
  CHECK(SanitizeForDisplay("\xC3(") == "\\xC3(");
  CHECK(SanitizeForDisplay("\xC0\xAF") == "\\xC0\\xAF");           // overlong '/'
  CHECK(SanitizeForDisplay("\xED\xA0\x80") == "\\xED\\xA0\\x80");  // surrogate
  CHECK(SanitizeForDisplay(std::string("a\0b\x1b[31m\n", 9)) == "a\\x00b\\x1B[31m\\n");
  CHECK(SanitizeForDisplay("a\nb", true) == "a\nb");
}

TEST_CASE("a diagnostic holding one byte of a UTF-8 sequence still renders as valid UTF-8 and JSON") {
  Diagnostic d{{"f\xC3.toml", 1, 2}, Severity::kError, "contains '\xC3'; only a-z are allowed"};
  CHECK(FormatDiagnostic(d) == "f\\xC3.toml:1:2: error: contains '\\xC3'; only a-z are allowed");
  nlohmann::json j = DiagnosticToJson(d);
  std::string text = j.dump();  // throws on invalid UTF-8 without the sanitising
  CHECK(nlohmann::json::parse(text)["message"] == "contains '\\xC3'; only a-z are allowed");
}

TEST_CASE("DumpJson never throws on invalid UTF-8") {
  nlohmann::json j = {{"name", "bad\xC3"}};
  CHECK_THROWS(j.dump());
  std::string text = DumpJson(j);
  CHECK(nlohmann::json::parse(text)["name"] == "bad\xEF\xBF\xBD");
}

TEST_CASE("slipway check /dev/zero exits 2 at once") {
  auto start = std::chrono::steady_clock::now();
  auto r = Run(Slipway() + " check /dev/zero");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/dev/zero: error: /dev/zero: not a regular file (a character device)") != std::string::npos);
}

TEST_CASE("slipway check refuses an oversized profile naming the cap") {
  TempDir dir;
  WriteText(dir / "clusters/huge.toml", "# " + std::string(kMaxTomlBytes, 'x') + "\n");
  auto r = Run(Slipway() + " check " + dir / "clusters/huge.toml");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("capped at 4 MiB") != std::string::npos);
}

TEST_CASE("slipway check on a deeply nested table header exits 2, not a crash") {
  TempDir dir;
  std::string text = "kind = \"cluster\"\n[a";
  for (int i = 0; i < 200000; ++i) text += ".a";
  WriteText(dir / "deep.toml", text + "]\n");
  auto r = Run(Slipway() + " check " + dir / "deep.toml");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("TOML nesting deeper than 32 levels") != std::string::npos);
}

TEST_CASE("slipway check --json stays valid JSON with non-ASCII and invalid UTF-8 in names") {
  TempDir dir;
  std::string file = dir / "clusters/bad\xC3.toml";
  WriteText(file,
            "kind = \"cluster\"\nname = \"gr\xC3\xBC\xC3\x9F-\xE2\x82\xAC\"\nkubernetes_version = \"1.28.5\"\n"
            "other\xFF = 1\n");
  auto r = Run(Slipway() + " check --json '" + file + "'");
  CHECK(r.exit_code == 2);
  nlohmann::json j;
  REQUIRE_NOTHROW(j = nlohmann::json::parse(r.out));
  CHECK(j["ok"] == false);
  CHECK(!j["diagnostics"].empty());
  r = Run(Slipway() + " check '" + file + "'");
  CHECK(r.exit_code == 2);
  CHECK(SanitizeForDisplay(r.err, true) == r.err);  // valid UTF-8 throughout
}
