// Rendering a VM's firmware into libvirt domain XML: the <os> block
// (SeaBIOS, or OVMF with its NVRAM and Secure Boot), the features Secure
// Boot needs, and an emulated TPM.
#pragma once

#include <string>

namespace slipway::firmware {

struct FirmwareXmlInput {
  std::string mode;     ///< "bios" or "uefi"
  std::string machine;  ///< "pc" or "q35"
  std::string loader;
  std::string nvram_template;
  std::string nvram_path;  ///< per-VM copy of the vars, next to its disks
  bool secure_boot = false;
  std::string tpm;  ///< "" or "2.0"
};

/// <os>...</os>, with `domain_type` "qemu"/"kvm" (machine set) or "test".
std::string OsXml(const FirmwareXmlInput& f, const std::string& domain_type);
/// <features>...</features>: ACPI (so a guest poweroff powers off), APIC,
/// and SMM when Secure Boot needs it.
std::string FeaturesXml(const FirmwareXmlInput& f);
/// <tpm> device for devices/, or "" when none.
std::string TpmXml(const FirmwareXmlInput& f);

/// Escapes &, <, >, ' and " for XML text and attributes.
std::string XmlEscape(const std::string& s);

}  // namespace slipway::firmware
