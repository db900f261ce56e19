// Writing the host system to the chosen local disk: the only code of the
// installer that writes a disk. The layout is computed apart (pure), then
// written in steps, each journaled in STATE/host-disk.json before it runs:
//
//   1 BIOS boot   1 MiB, bios_grub (room for GRUB's core.img; BIOS boots
//                 SYSLINUX from the ESP through gptmbr, as the node images do)
//   2 ESP         the ISO's host ESP image (shim + Debian's signed GRUB,
//                 SYSLINUX, kernel, initramfs), booting slipway.root=disk
//   3 system A    the ISO's live root as an ext4 image (label slipway-sys)
//   4 system B    the same size, left empty (room for A/B upgrades)
//   5 data        ext4 (label slipway-data): persistent /etc and /var parts
//
// Until the last step the protective MBR has no boot signature, so neither
// firmware nor a kernel takes the disk for a bootable or partitioned one: a
// host killed during the write boots the ISO again, where the journal says
// the earlier install failed, and the install writes the disk again from
// step 1. The same inputs give the same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_ops.h"
#include "common/host_system.h"

namespace slipway::installer {

enum class HostPart { kBiosBoot, kEsp, kSystemA, kSystemB, kData };

struct HostDiskPartition {
  HostPart part;
  std::string name;             ///< the GPT partition name
  uint64_t start = 0, end = 0;  ///< sectors, inclusive end
  uint64_t Bytes() const { return (end - start + 1) * 512; }
};

struct HostDiskLayout {
  uint64_t disk_bytes = 0;
  uint64_t system_slot_bytes = 0;        ///< each of system A and B
  std::vector<HostDiskPartition> parts;  ///< in disk order, one per HostPart
  const HostDiskPartition& Of(HostPart p) const;
};

/// The smallest data partition the layout accepts.
inline constexpr uint64_t kMinDataBytes = 1ull << 30;

/// Lays out a disk of `disk_bytes` for an ESP image of `esp_bytes` and a
/// system image of `system_bytes`: each system slot is twice the image
/// (at least 1 GiB), rounded up to a MiB; the data partition takes the rest.
/// A disk too small is an error naming `disk`, its size and what is needed.
Result<HostDiskLayout> PlanHostDiskLayout(const std::string& disk, uint64_t disk_bytes, uint64_t esp_bytes,
                                          uint64_t system_bytes);

/// The write's steps, in order.
enum class HostDiskStep { kInvalidate, kPartition, kSystemA, kSystemB, kData, kEsp, kCommit };
std::string_view HostDiskStepName(HostDiskStep s);
const std::vector<HostDiskStep>& HostDiskSteps();

/// STATE/host-disk.json: the journal of the disk write (one owner: this
/// header). "writing" with the step that was running, or "written".
struct HostDiskRecord {
  std::string disk;    ///< the disk's name ("vda")
  std::string device;  ///< what was written ("/dev/vda")
  uint64_t disk_bytes = 0;
  std::string state;   ///< "writing" or "written"
  std::string step;    ///< the step running when "writing"
  int attempt = 1;     ///< how many writes were started
  double seconds = 0;  ///< the write's duration, when "written"
};
inline constexpr const char* kHostDiskRecord = "host-disk.json";

/// Reads STATE/host-disk.json; nothing when it does not exist. A damaged
/// file is an error naming it.
Result<std::optional<HostDiskRecord>> ReadHostDiskRecord(const std::string& state_dir);
Status WriteHostDiskRecord(FileOps& ops, const std::string& state_dir, const HostDiskRecord& r);

struct HostDiskJob {
  std::string disk;             ///< name for messages and the record
  std::string device;           ///< the block device or image file to write
  std::string host_system_dir;  ///< the medium's slipway/host folder
  HostSystemManifest manifest;
  HostDiskLayout layout;
  std::string seed;  ///< per-host identity: GPT GUIDs and the data file system's UUID derive from it
  long epoch = 1;    ///< the data file system's times
  std::string state_dir;
  int attempt = 1;
};

struct HostDiskHooks {
  std::function<void(const std::string& line)> status;
  /// Called before each step; an error stops the write there (tests use it
  /// as a power cut).
  std::function<Status(HostDiskStep)> before_step;
};

/// Writes the disk, journaling each step through `ops` before it runs and
/// "written" after the last. REQUIRES: the disk was chosen by the install
/// disk guard (not busy, not the boot medium) and layout fits the device.
/// On failure the record says "writing" and the step; the disk is not
/// bootable (the commit step is last).
Status WriteHostDisk(const HostDiskJob& job, FileOps& ops, const HostDiskHooks& hooks);

}  // namespace slipway::installer
