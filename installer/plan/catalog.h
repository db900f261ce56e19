// A set of loaded profile files and the checks that span files: references to
// VM sizes, firmware, hardware profiles and clusters must resolve, and names
// must be unique across files.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "firmware/vm_firmware.h"
#include "installer/model/profiles.h"

namespace slipway::installer {

struct Catalog {
  std::optional<VmSizeCatalog> sizes;
  std::optional<firmware::FirmwareCatalog> firmware;
  std::vector<HardwareProfile> hardware;
  std::vector<ClusterProfile> clusters;
  std::vector<Fleet> fleets;
  /// Where sizes/firmware were looked for, for "not found" messages.
  std::string sizes_hint;
  std::string firmware_hint;

  const HardwareProfile* FindHardware(std::string_view name) const;
  const ClusterProfile* FindCluster(std::string_view name) const;
  std::vector<std::string> HardwareNames() const;
  std::vector<std::string> ClusterNames() const;
};

/// Checks every cross-file reference and name clash; reports to `diags`.
void CrossCheckCatalog(const Catalog& catalog, Diagnostics* diags);

/// Loads a profile tree: DIR/vm-sizes.toml, DIR/hardware/*.toml,
/// DIR/clusters/*.toml (fleet files are not loaded) and `firmware_file`.
/// Every problem goes to `diags`; what loaded cleanly is kept.
Catalog LoadProfileTree(const std::string& profiles_dir, const std::string& firmware_file, Diagnostics* diags);

/// The *.toml files directly in `dir`, sorted by name (empty if none).
std::vector<std::string> ListTomlFiles(const std::string& dir);

}  // namespace slipway::installer
