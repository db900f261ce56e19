// `slipway check`: validate any mix of profile files, fleet answer files,
// firmware catalogues and image definitions, with cross-file references.
#pragma once

#include <string>
#include <vector>

#include "common/diagnostics.h"

namespace slipway::cli {

/// One file that was checked.
struct CheckedFile {
  std::string file;
  std::string kind;      ///< "vm-sizes", "hardware-profile", "cluster", "fleet", "firmware", "image", "" if unknown
  std::string summary;   ///< "prod: 3 control planes, 2 LBs, 2 pools"
  bool implied = false;  ///< loaded only to resolve references
};

struct CheckReport {
  std::vector<CheckedFile> files;
  Diagnostics diags;
};

/// The kind of a file: its top-level `kind` key, else its folder
/// (hardware/, clusters/, fleet/, images/, firmware/) or name (vm-sizes.toml).
/// Returns "" when it cannot tell.
std::string KindFromPath(const std::string& path);

/// Checks `paths` (files or folders, searched recursively for *.toml).
/// References to VM sizes, firmware, hardware profiles and clusters are
/// resolved against the files given, then against the profile tree each file
/// sits in, then against `data_dir`. A non-empty `profiles_root` (a folder
/// holding hardware/, clusters/ and vm-sizes.toml) replaces the last two.
CheckReport CheckPaths(const std::vector<std::string>& paths, const std::string& data_dir,
                       const std::string& profiles_root = "");

}  // namespace slipway::cli
