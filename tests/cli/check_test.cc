#include "cli/check.h"

#include <catch2/catch.hpp>

#include "test_util.h"

using namespace slipway;
using namespace slipway::testing;

TEST_CASE("every bundled profile, firmware and image definition validates") {
  auto report = cli::CheckPaths({SourceDir() + "/profiles", SourceDir() + "/images", SourceDir() + "/firmware"},
                                SourceDir());
  for (const Diagnostic& d : report.diags.items()) INFO(FormatDiagnostic(d));
  CHECK(report.diags.ErrorCount() == 0);
  CHECK(report.files.size() == 12);  // 7 profiles, 4 images, 1 firmware catalogue
}
