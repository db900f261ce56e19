// Fuzz target: an answer file (fleet TOML) read and matched against a fixed
// host. Any bytes give a match, an input error or a host-unsuitable error,
// never a crash or an escaping exception.
#include <cstdint>
#include <string_view>

#include "common/toml_reader.h"
#include "installer/model/profiles.h"
#include "installer/service/answer.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

HardwareReport Host() {
  HardwareReport r;
  r.smbios.serial = Probed<std::string>::Known("SN1");
  r.smbios.uuid = Probed<std::string>::Known("4c4c4544-0042-3510-8052-b4c04f4b4e32");
  Nic nic;
  nic.name = "eno1";
  nic.physical = true;
  nic.mac = Probed<std::string>::Known("52:54:00:12:34:01");
  r.nics.push_back(nic);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const HardwareReport host = Host();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Diagnostics d;
  auto t = ParseTomlText(text, "answer.toml", &d);
  if (!t) return 0;
  auto fleet = ReadFleet(*t, "answer.toml", &d);
  if (!fleet) return 0;
  (void)MatchHost(*fleet, host);
  return 0;
}
