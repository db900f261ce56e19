// /proc/self/mountinfo parsing (proc(5)): used to find CSVs and the mount
// that holds the boot medium.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace slipway::installer {

struct MountEntry {
  std::string dev;          ///< "major:minor"
  std::string root;         ///< root of the mount within its file system
  std::string mount_point;  ///< with \040-style escapes decoded
  std::string options;      ///< per-mount options ("rw,relatime")
  std::string fs_type;
  std::string source;
  std::string super_options;
  bool ReadOnly() const;
};

/// Parses mountinfo text; malformed lines are skipped.
std::vector<MountEntry> ParseMountInfo(std::string_view text);

/// The entry whose mount point is the longest prefix of `path` (the last one
/// mounted wins, as the kernel shows it); nullptr when none.
const MountEntry* FindMount(const std::vector<MountEntry>& mounts, std::string_view path);

}  // namespace slipway::installer
