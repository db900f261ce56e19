// What a disk holds, read from its first and last sectors with libblkid: a
// partition table, file systems (with their labels) on the whole disk or on
// each partition. The install-disk guard refuses a disk that holds any of
// them unless its rule says wipe = true.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::installer {

/// One signature found: a file system (ext4, vfat, xfs, iso9660, swap,
/// LVM2_member...) on the whole disk or on one partition.
struct FsSignature {
  std::string where;  ///< "sda" (whole disk) or "sda1"
  std::string type;   ///< libblkid's TYPE
  std::string label;  ///< LABEL, "" when none
  bool operator==(const FsSignature&) const = default;
};

struct DiskContents {
  std::string partition_table;  ///< "gpt", "dos", ... ; "" when none
  int partitions = 0;           ///< entries in that table
  std::vector<FsSignature> file_systems;

  /// Nothing found: no table, no file system.
  bool Empty() const { return partition_table.empty() && file_systems.empty(); }
  /// "gpt with 2 partitions; sda1 vfat 'EFI'; sda2 ext4 'root'", or "empty".
  std::string Describe() const;
  bool operator==(const DiskContents&) const = default;
};

/// Probes the block device (or image file) at host path `path`. Only reads.
/// `disk_name` names the partitions ("sda" -> "sda1", "nvme0n1" -> "nvme0n1p1").
/// Errors name `shown` (the path as the user knows it; default `path`) and the
/// OS reason (a missing device, no permission).
Result<DiskContents> ProbeDiskContents(const std::string& path, const std::string& disk_name,
                                       const std::string& shown = "");

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FsSignature, where, type, label)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DiskContents, partition_table, partitions, file_systems)

}  // namespace slipway::installer
