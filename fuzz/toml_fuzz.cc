// Fuzz target: one TOML kind (kSlipwayFuzzKind, set per executable by
// fuzz/CMakeLists.txt) through the strict reader.
// The property: any bytes give diagnostics or a value, never a crash, an
// escaping exception, or a diagnostic that is not valid UTF-8 / JSON.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "builder/image_definition.h"
#include "builder/kubernetes_bundle.h"
#include "common/diagnostics.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "common/toml_reader.h"
#include "firmware/vm_firmware.h"
#include "installer/model/profiles.h"

extern const char* const kSlipwayFuzzKind;

using namespace slipway;

namespace {

void Read(std::string_view kind, const toml::table& t, Diagnostics* d) {
  const std::string file = "fuzz.toml";
  if (kind == "hardware") {
    installer::HardwareProfile partial;
    (void)installer::ReadHardwareProfile(t, file, d, &partial);
  } else if (kind == "cluster") {
    installer::ClusterProfile partial;
    (void)installer::ReadClusterProfile(t, file, d, &partial);
  } else if (kind == "fleet") {
    installer::Fleet partial;
    (void)installer::ReadFleet(t, file, d, &partial);
  } else if (kind == "vm-sizes") {
    (void)installer::ReadVmSizes(t, file, d);
  } else if (kind == "image") {
    (void)builder::ReadImageDefinition(t, file, d);
  } else if (kind == "kubernetes-bundle") {
    if (auto m = builder::ReadBundleManifest(t, file, d)) {
      builder::CheckBundleComplete(*m, builder::BundleOs::kLinux, d);
      builder::CheckBundleComplete(*m, builder::BundleOs::kWindows, d);
    }
  } else {
    (void)firmware::ReadFirmwareCatalog(t, file, d);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Diagnostics d;
  if (auto t = ParseTomlText(text, "fuzz.toml", &d)) Read(kSlipwayFuzzKind, *t, &d);
  for (const Diagnostic& x : d.items()) {
    std::string line = FormatDiagnostic(x);
    if (SanitizeForDisplay(line, true) != line) std::abort();  // not valid, printable UTF-8
    (void)nlohmann::json::parse(DiagnosticToJson(x).dump());   // dump throws on invalid UTF-8
  }
  return 0;
}
