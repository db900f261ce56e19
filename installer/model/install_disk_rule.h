// The install-disk rule: which local disk the host system is installed to.
// Written as an [install_disk] table in a hardware profile, or under
// [defaults] / [[host]] of a fleet answer file (docs/installer.md). Reading
// only; choosing the disk is installer/plan/install_disk.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.h"
#include "common/toml_reader.h"

namespace slipway::installer {

/// The kind of disk a rule asks for. kAny: no media condition.
enum class DiskMedia { kAny, kSsd, kHdd, kNvme };

/// "ssd", "hdd", "nvme" or "any".
std::string_view DiskMediaName(DiskMedia m);

/// The default rule picks the smallest non-rotational disk of at least this size.
inline constexpr int64_t kDefaultInstallDiskMinGib = 16;

struct InstallDiskRule {
  // Identity selectors: every one given must match.
  std::string serial;
  std::string wwn;
  std::string by_path;    ///< a name in /dev/disk/by-path ("pci-0000:00:1f.2-ata-1"); the prefix is optional
  std::string model;      ///< the whole model string, compared without surrounding blanks
  std::string transport;  ///< "nvme", "sata/scsi", "virtio" or "usb"
  // Size and media bounds.
  std::optional<int64_t> min_gib;
  std::optional<int64_t> max_gib;
  DiskMedia media = DiskMedia::kAny;
  /// The chosen disk may hold a partition table or file systems; they are erased.
  bool wipe = false;
  /// Where the rule was written ("" file: the built-in default).
  SourcePos pos;
  std::string origin;  ///< "answer file x.toml (host hv-01)", "hardware profile 'standard'", "default"

  /// No selector and no bound: the default rule (smallest non-rotational
  /// disk of at least kDefaultInstallDiskMinGib).
  bool IsDefault() const;
  /// "serial = \"S1\", wipe = true", or the default rule in words.
  std::string Describe() const;
};

/// Reads the [install_disk] table under `parent` (key "install_disk") if
/// present. Errors (unknown keys, bad media, min_gib > max_gib) are located.
std::optional<InstallDiskRule> ReadInstallDiskRule(TableReader& parent, const std::string& file, Diagnostics* diags);

}  // namespace slipway::installer
