// Firmware catalogue reading and validation.
#include "firmware/vm_firmware.h"

#include <set>

namespace slipway::firmware {

const VmFirmware* FirmwareCatalog::Find(std::string_view name) const {
  for (const VmFirmware& f : entries) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<std::string> FirmwareCatalog::Names() const {
  std::vector<std::string> out;
  for (const VmFirmware& f : entries) out.push_back(f.name);
  return out;
}

std::string_view BootModeName(BootMode mode) { return mode == BootMode::kUefi ? "uefi" : "bios"; }

bool ImageBootsUnderSecureBoot(std::string_view os) { return os == "windows" || os == "linux"; }

std::string SecureBootMismatch(const VmFirmware& firmware, std::string_view os) {
  if (!firmware.secure_boot || ImageBootsUnderSecureBoot(os)) return "";
  return "firmware '" + firmware.name + "' enforces Secure Boot, but Slipway's " + std::string(os) +
         " images are not known to boot under it: such VMs would stop in firmware with 'Access Denied'. "
         "Use firmware \"uefi\" (or \"bios\") for them";
}

std::optional<FirmwareCatalog> ReadFirmwareCatalog(const toml::table& root, const std::string& file,
                                                   Diagnostics* diags) {
  size_t errors_before = diags->ErrorCount();
  FirmwareCatalog catalog;
  catalog.file = file;
  TableReader top(root, file, "", diags);
  top.Allow("kind");
  std::set<std::string> seen;
  for (const toml::table* t : top.TableArray("firmware", Need::kRequired)) {
    TableReader r(*t, file, "[[firmware]]", diags);
    VmFirmware f;
    f.pos = r.TablePos();
    f.name = r.String("name", Need::kRequired).value_or("");
    if (!f.name.empty() && !seen.insert(f.name).second) {
      r.ErrorAt("name", "firmware '" + f.name + "' is defined twice");
    }
    auto mode = r.Enum("mode", Need::kRequired, {"bios", "uefi"});
    f.mode = mode == "uefi" ? BootMode::kUefi : BootMode::kBios;
    f.machine = r.Enum("machine", Need::kOptional, {"pc", "q35"}).value_or(f.mode == BootMode::kUefi ? "q35" : "pc");
    f.loader = r.String("loader", Need::kOptional).value_or("");
    f.nvram_template = r.String("nvram_template", Need::kOptional).value_or("");
    f.secure_boot = r.Bool("secure_boot", Need::kOptional).value_or(false);
    f.tpm_version = r.Enum("tpm", Need::kOptional, {"none", "2.0"}).value_or("none");
    if (f.tpm_version == "none") f.tpm_version.clear();
    if (f.mode == BootMode::kUefi && f.loader.empty()) {
      diags->Error(f.pos, "UEFI firmware '" + f.name + "' needs 'loader' (the OVMF code file)");
    }
    if (f.mode == BootMode::kBios && (f.secure_boot || !f.loader.empty())) {
      diags->Error(f.pos, "BIOS firmware '" + f.name + "' cannot have 'loader' or 'secure_boot'; use mode = \"uefi\"");
    }
    if (f.secure_boot && f.machine != "q35") {
      r.ErrorAt("machine", "Secure Boot needs machine = \"q35\" (SMM), not '" + f.machine + "'");
    }
    r.Finish();
    catalog.entries.push_back(std::move(f));
  }
  top.Finish();
  if (diags->ErrorCount() != errors_before) return std::nullopt;
  return catalog;
}

}  // namespace slipway::firmware
