// Inputs the fuzzer found (tests/fixtures/fuzz/), kept as regression tests.
// Both held a number too large for its integer field; nlohmann converted it
// with a cast that is undefined behaviour (UBSan stopped the fuzzer). Now
// each is refused as a located input or journal error.
#include <catch2/catch.hpp>

#include "installer/apply/journal.h"
#include "installer/plan/plan_ops.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::testing;

TEST_CASE("fuzz: a plan with a float where an integer belongs is an input error naming the field") {
  std::string text = ReadText(Fixtures() + "/fuzz/plan-float-size.json");
  REQUIRE(!text.empty());
  auto plan = installer::ParsePlan(text, "crash.json");
  REQUIRE(!plan.ok());
  CHECK(plan.error().code() == ExitCode::kInput);
  CHECK(plan.error().message().find("crash.json: not a readable plan: /") != std::string::npos);
  CHECK(plan.error().message().find(" is not an integer (plans hold only integers)") != std::string::npos);
  auto small = installer::ParsePlan(R"({"schema": "slipway.plan/v1", "vms": [{"vcpus": 2.5}]})", "x.json");
  REQUIRE(!small.ok());
  CHECK(small.error().message() ==
        "x.json: not a readable plan: /vms/0/vcpus is not an integer (plans hold only integers)");
}

TEST_CASE("fuzz: a journal record whose seq does not fit an integer is reported with its line") {
  TempDir dir;
  WriteText(dir / "journal.jsonl", ReadText(Fixtures() + "/fuzz/journal-float-seq.jsonl"));
  auto j = installer::Journal::Open(dir.path());
  REQUIRE(!j.ok());
  CHECK(j.error().message().find(dir / "journal.jsonl" +
                                 ":3: corrupt journal record: 'seq' is not a non-negative integer") !=
        std::string::npos);
}
