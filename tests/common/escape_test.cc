// Each escaper against hostile strings: quotes, line breaks, '@ (the end of
// a PowerShell here-string), $(), backticks, NUL, non-ASCII. The proof is a
// round trip through the language's own reader where one is at hand
// (yaml-cpp, /bin/sh), and for PowerShell a tokenizer that follows its
// documented single-quoted-string rules.
#include "common/escape.h"

#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

#include "common/strings.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::testing;

namespace {

const std::vector<std::string> kHostile = {
    "",
    "plain",
    "it's",
    "say \"hi\"",
    "back\\slash\\",
    "line1\nline2",
    "crlf\r\n",
    "x\n'@\nRemove-Item -Recurse C:\\ #",
    "\n'@ | Out-Null; Invoke-Expression 'calc' #",
    "$(rm -rf /)",
    "`whoami`",
    "${HOME} $HOME $$",
    "a\tb",
    "key: value # comment",
    "- item",
    "{flow: [1, 2]}",
    "&anchor *alias !tag",
    "%directive",
    "@at `back` |pipe >fold",
    "yes",
    "null",
    "~",
    "0x1F",
    "  leading and trailing  ",
    "gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x9A\xA2",  // grüß € and a 4-byte emoji
    "\xE2\x80\x98smart\xE2\x80\x99 \xE2\x80\x9A\xE2\x80\x9B quotes",
    "\xC2\x85nel\xE2\x80\xA8ls\xEF\xBB\xBF",  // NEL, LINE SEPARATOR, BOM
    "bell\a esc\x1b[31m del\x7f",
    std::string("nul\0inside", 10),
    "'",
    "''",
    "'\"'\"'",
    "\\'",
};

// PowerShell's tokenizer for a single-quoted string starting at text[0]:
// the value and the index just past the closing quote (npos when it never
// closes). Any of ' U+2018 U+2019 U+201A U+201B is a quote; two in a row are
// one literal quote (the second).
std::pair<std::string, size_t> ReadPowerShellLiteral(const std::string& text) {
  auto quote_len = [&](size_t i) -> size_t {
    if (i >= text.size()) return 0;
    if (text[i] == '\'') return 1;
    if (text.compare(i, 2, "\xE2\x80") == 0 && i + 2 < text.size()) {
      unsigned char c = static_cast<unsigned char>(text[i + 2]);
      if (c >= 0x98 && c <= 0x9B) return 3;
    }
    return 0;
  };
  REQUIRE(quote_len(0) == 1);
  std::string value;
  size_t i = 1;
  while (i < text.size()) {
    if (size_t q = quote_len(i)) {
      size_t q2 = quote_len(i + q);
      if (!q2) return {value, i + q};  // the closing quote
      value += text.substr(i + q, q2);
      i += q + q2;
      continue;
    }
    value += text[i++];
  }
  return {value, std::string::npos};
}

// What a valid-UTF-8 string reads back as (invalid bytes are replaced).
bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(std::string_view(s).substr(i));
    if (!n) return false;
    i += n;
  }
  return true;
}

}  // namespace

TEST_CASE("YamlQuote round-trips every hostile string through yaml-cpp") {
  for (const std::string& s : kHostile) {
    std::string quoted = YamlQuote(s);
    INFO(SanitizeForDisplay(s) << " -> " << SanitizeForDisplay(quoted));
    CHECK(quoted.find('\n') == std::string::npos);  // one line: it cannot start a new key
    // As a value in a mapping, as kubeadm's node-labels is.
    YAML::Node doc =
        YAML::Load("nodeRegistration:\n  kubeletExtraArgs:\n    node-labels: " + quoted + "\n  after: 1\n");
    CHECK(doc["nodeRegistration"]["kubeletExtraArgs"]["node-labels"].as<std::string>() == s);
    CHECK(doc["nodeRegistration"]["after"].as<int>() == 1);
    CHECK(doc["nodeRegistration"].size() == 2);
  }
}

TEST_CASE("YamlQuote replaces bytes that are not UTF-8, and the output is still one valid scalar") {
  std::string quoted = YamlQuote("bad\xC3(\xFF");
  CHECK(quoted == "\"bad\\uFFFD(\\uFFFD\"");
  CHECK(YAML::Load("v: " + quoted)["v"].as<std::string>() == "bad\xEF\xBF\xBD(\xEF\xBF\xBD");
}

TEST_CASE("PowerShellQuote: no hostile string can end the literal, and it reads back exactly") {
  for (const std::string& s : kHostile) {
    std::string quoted = PowerShellQuote(s);
    INFO(SanitizeForDisplay(s) << " -> " << SanitizeForDisplay(quoted));
    // Followed by more code: the literal must end exactly at the last quote.
    auto [value, end] = ReadPowerShellLiteral(quoted + " | Set-Content x");
    CHECK(end == quoted.size());
    CHECK(value == s);
  }
  CHECK(PowerShellQuote("it's") == "'it''s'");
  CHECK(PowerShellQuote("\xE2\x80\x99") == "'\xE2\x80\x99\xE2\x80\x99'");
  CHECK(PowerShellQuote("$(x) `n") == "'$(x) `n'");  // nothing to escape: never expanded
}

TEST_CASE("ShellQuote round-trips every hostile string through /bin/sh") {
  for (const std::string& s : kHostile) {
    auto quoted = ShellQuote(s);
    INFO(SanitizeForDisplay(s));
    if (s.find('\0') != std::string::npos) {
      REQUIRE(!quoted.ok());
      CHECK(quoted.error().code() == ExitCode::kInput);
      continue;
    }
    REQUIRE(quoted.ok());
    auto outer = ShellQuote("printf %s " + *quoted);
    REQUIRE(outer.ok());
    auto r = Run("sh -c " + *outer);
    CHECK(r.exit_code == 0);
    CHECK(r.out == s);
  }
}

TEST_CASE("ConfigToken keeps plain tokens, quotes the rest, refuses line breaks and NUL") {
  CHECK(ConfigToken("prod-cp-1").value() == "prod-cp-1");
  CHECK(ConfigToken("10.0.0.1:6443").value() == "10.0.0.1:6443");
  CHECK(ConfigToken("").value() == "\"\"");
  CHECK(ConfigToken("a b").value() == "\"a b\"");
  CHECK(ConfigToken("x\"y\\z $HOME #c").value() == "\"x\\\"y\\\\z \\$HOME #c\"");
  for (const std::string& bad : std::vector<std::string>{"a\nb", "a\rb", std::string("a\0b", 3)}) {
    auto r = ConfigToken(bad);
    REQUIRE(!r.ok());
    CHECK(r.error().code() == ExitCode::kInput);
  }
}

TEST_CASE("IniValue refuses what an INI reader would read differently") {
  CHECK(IniValue("C:\\Program Files\\x").value() == "C:\\Program Files\\x");
  CHECK(IniValue("a=b;c").value() == "a=b;c");
  for (const std::string& bad :
       std::vector<std::string>{"a\nb", " lead", "trail ", "; comment", "#c", "[section]", std::string("\0", 1)}) {
    CHECK(!IniValue(bad).ok());
  }
}

TEST_CASE("every escaper's output is valid UTF-8 for valid UTF-8 input") {
  for (const std::string& s : kHostile) {
    if (!ValidUtf8(s)) continue;
    CHECK(ValidUtf8(YamlQuote(s)));
    CHECK(ValidUtf8(PowerShellQuote(s)));
  }
}
