#include "common/diagnostics.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace slipway;

TEST_CASE("diagnostics format as file:line:column and show a caret") {
  testing::TempDir dir;
  std::string file = dir / "x.toml";
  testing::WriteText(file, "a = 1\nmemroy_gib = 8\n");
  Diagnostic d{{file, 2, 1}, Severity::kError, "unknown key 'memroy_gib'"};
  CHECK(FormatDiagnostic(d) == file + ":2:1: error: unknown key 'memroy_gib'");
  CHECK(RenderDiagnostic(d) == file + ":2:1: error: unknown key 'memroy_gib'\n    memroy_gib = 8\n    ^");
  CHECK(DiagnosticToJson(d)["line"] == 2);
}

TEST_CASE("diagnostics sort by position and count per file") {
  Diagnostics ds;
  ds.Error({"b.toml", 1, 1}, "x");
  ds.Error({"a.toml", 9, 1}, "y");
  ds.Error({"a.toml", 2, 5}, "z");
  ds.Warning({"a.toml", 1, 1}, "w");
  ds.Sort();
  CHECK(ds.items()[0].message == "w");
  CHECK(ds.items()[1].message == "z");
  CHECK(ds.ErrorCount() == 3);
  CHECK(ds.WarningCount() == 1);
  CHECK(ds.ErrorCountFor("a.toml") == 2);
}
