// VM boot firmware as data: the catalogue in firmware/firmware.toml names each
// choice (SeaBIOS, OVMF, OVMF with Secure Boot and a vTPM) and where its files
// live on the host. Profiles refer to these entries by name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.h"
#include "common/toml_reader.h"

namespace slipway::firmware {

enum class BootMode { kBios, kUefi };

/// One firmware choice a VM can boot with.
struct VmFirmware {
  std::string name;  ///< "bios", "uefi", "uefi-secure"
  BootMode mode = BootMode::kBios;
  std::string machine;         ///< QEMU machine type: "pc" or "q35"
  std::string loader;          ///< OVMF code path (UEFI only)
  std::string nvram_template;  ///< OVMF vars template (UEFI only)
  bool secure_boot = false;
  std::string tpm_version;  ///< "" (none) or "2.0"
  SourcePos pos;
};

struct FirmwareCatalog {
  std::string file;
  std::vector<VmFirmware> entries;
  const VmFirmware* Find(std::string_view name) const;
  std::vector<std::string> Names() const;
};

/// Reads a firmware catalogue table (kind "firmware"). Errors go to `diags`.
std::optional<FirmwareCatalog> ReadFirmwareCatalog(const toml::table& root, const std::string& file,
                                                   Diagnostics* diags);

std::string_view BootModeName(BootMode mode);

/// Whether the images Slipway runs for `os` ("linux" or "windows") boot under
/// enforced Secure Boot. Windows install media are signed by Microsoft;
/// Slipway's Linux node and load-balancer images boot through shim (signed
/// by Microsoft's UEFI CA), Debian's signed GRUB and Debian's signed kernel
/// (firmware/signed_boot.h). False for any other `os`.
bool ImageBootsUnderSecureBoot(std::string_view os);

/// Why `firmware` cannot boot the images of `os`, or "" when it can: the
/// text of the warning that plan and check give.
std::string SecureBootMismatch(const VmFirmware& firmware, std::string_view os);

}  // namespace slipway::firmware
