// Fuzz target: plan JSON through the loader and the plan check. Any bytes
// give a plan or an input error, never a crash or an escaping exception.
#include <cstdint>
#include <string_view>

#include "common/json_text.h"
#include "common/strings.h"
#include "installer/apply/plan_check.h"
#include "installer/plan/plan_ops.h"

using namespace slipway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto plan = installer::ParsePlan(text, "fuzz.json");
  if (!plan) return 0;
  auto st = installer::CheckPlan(*plan, "fuzz.json", "/nonexistent-slipway-fuzz-root");
  if (!st) (void)SanitizeForDisplay(st.error().message());
  (void)DumpJson(nlohmann::json(*plan));
  return 0;
}
