// libFuzzer target: `slipway lb sync`'s reader of kubectl's ServiceList JSON
// (installer/plan/lb_sync.cc). Any input must give services or an error,
// never a crash; every service it returns must hold only valid values.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/strings.h"
#include "installer/plan/lb_sync.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> warnings;
  auto r = slipway::installer::ParseServiceList(text, "fuzz.json", &warnings);
  if (!r) return 0;
  for (const auto& s : *r) {
    if (!slipway::IsDns1123Label(s.name) || !slipway::IsDns1123Label(s.ns) || s.ports.empty()) __builtin_trap();
    for (const auto& p : s.ports) {
      if (p.port < 1 || p.port > 65535 || p.node_port < 30000 || p.node_port > 32767) __builtin_trap();
    }
  }
  return 0;
}
