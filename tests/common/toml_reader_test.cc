#include "common/toml_reader.h"

#include <catch2/catch.hpp>

using namespace slipway;

namespace {

struct Parsed {
  Diagnostics diags;
  std::optional<toml::table> table;
  explicit Parsed(std::string_view text) { table = ParseTomlText(text, "t.toml", &diags); }
};

std::string Only(const Diagnostics& d) {
  REQUIRE(d.items().size() == 1);
  return FormatDiagnostic(d.items()[0]);
}

}  // namespace

TEST_CASE("a syntax error is one located diagnostic") {
  Parsed p("a = 1\nb = [1, 2\n");
  CHECK_FALSE(p.table);
  REQUIRE(p.diags.ErrorCount() == 1);
  INFO(FormatDiagnostic(p.diags.items()[0]));
  CHECK(p.diags.items()[0].pos.line == 2);
  CHECK(FormatDiagnostic(p.diags.items()[0]).rfind("t.toml:2:", 0) == 0);
  CHECK(p.diags.items()[0].message.rfind("TOML syntax: ", 0) == 0);
}

TEST_CASE("unknown keys are reported with did-you-mean at the key") {
  Parsed p("vcpus = 2\n  memroy_gib = 8\n");
  TableReader r(*p.table, "t.toml", "", &p.diags);
  r.Int("vcpus", Need::kRequired, 1, 8);
  r.Int("memory_gib", Need::kOptional, 1, 8);
  r.Finish();
  CHECK(Only(p.diags) == "t.toml:2:3: error: unknown key 'memroy_gib' (did you mean 'memory_gib'?)");
}

TEST_CASE("unknown keys without a near match list what is allowed") {
  Parsed p("[pool]\ncolour = 'red'\n");
  TableReader top(*p.table, "t.toml", "", &p.diags);
  TableReader r(*top.Table("pool", Need::kRequired), "t.toml", "[pool]", &p.diags);
  r.String("name", Need::kOptional);
  r.Int("count", Need::kOptional, 0, 5);
  r.Finish();
  top.Finish();
  CHECK(Only(p.diags) == "t.toml:2:1: error: unknown key 'colour' in [pool] (allowed: count, name)");
}

TEST_CASE("wrong types and ranges name the key, the value and the limit") {
  Parsed p("count = 'three'\nvcpus = 0\nratio = 40.5\n");
  TableReader r(*p.table, "t.toml", "", &p.diags);
  CHECK_FALSE(r.Int("count", Need::kRequired, 1, 5));
  CHECK_FALSE(r.Int("vcpus", Need::kRequired, 1, 256));
  CHECK_FALSE(r.Number("ratio", Need::kRequired, 1, 16));
  r.Finish();
  REQUIRE(p.diags.ErrorCount() == 3);
  CHECK(FormatDiagnostic(p.diags.items()[0]) == "t.toml:1:9: error: 'count' must be an integer, not a string");
  CHECK(FormatDiagnostic(p.diags.items()[1]) == "t.toml:2:9: error: 'vcpus' is 0; it must be from 1 to 256");
  CHECK(FormatDiagnostic(p.diags.items()[2]) == "t.toml:3:9: error: 'ratio' is 40.5; it must be from 1 to 16");
}

TEST_CASE("missing required keys point at their table") {
  Parsed p("[control_plane]\nsize = 'x'\n");
  TableReader top(*p.table, "t.toml", "", &p.diags);
  TableReader r(*top.Table("control_plane", Need::kRequired), "t.toml", "[control_plane]", &p.diags);
  r.String("size", Need::kRequired);
  r.Int("count", Need::kRequired, 1, 5);
  r.Finish();
  CHECK(Only(p.diags) == "t.toml:1:1: error: missing required key 'count' in [control_plane]");
}

TEST_CASE("enums list the allowed values and suggest the closest") {
  Parsed p("os = 'linx'\n");
  TableReader r(*p.table, "t.toml", "", &p.diags);
  CHECK_FALSE(r.Enum("os", Need::kRequired, {"linux", "windows"}));
  CHECK(Only(p.diags) == "t.toml:1:6: error: 'os' is 'linx'; it must be 'linux' or 'windows' (did you mean 'linux'?)");
}

TEST_CASE("string arrays and maps report each bad item") {
  Parsed p("taints = ['a', 2, 'b']\nlabels = { a = 'x', b = 3 }\n");
  TableReader r(*p.table, "t.toml", "", &p.diags);
  CHECK_FALSE(r.StringArray("taints", Need::kRequired));
  CHECK_FALSE(r.StringMap("labels", Need::kRequired));
  REQUIRE(p.diags.ErrorCount() == 2);
  CHECK(FormatDiagnostic(p.diags.items()[0]) ==
        "t.toml:1:16: error: items of 'taints' must be strings, not an integer");
  CHECK(FormatDiagnostic(p.diags.items()[1]) ==
        "t.toml:2:25: error: values of 'labels' must be strings; 'b' is an integer");
}

TEST_CASE("a misspelt required key is one error, not two") {
  Parsed p("sise = 'x'\n");
  TableReader r(*p.table, "t.toml", "[[node_pool]]", &p.diags);
  r.String("size", Need::kRequired);
  r.Finish();
  CHECK(Only(p.diags) == "t.toml:1:1: error: unknown key 'sise' (did you mean 'size'?)");
}
