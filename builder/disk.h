// The disk stage: a raw GPT disk image made with libparted, an ESP (FAT32
// made by mkfs.vfat, filled with mtools) that boots under UEFI (systemd-boot)
// and BIOS (SYSLINUX + gptmbr), and an ext4 root made by mkfs.ext4 -d. No
// loop devices, no mounts, no root privileges for the image itself. Every
// identifier (GUIDs, UUIDs, volume ids, hash seed) and timestamp derives from
// a seed, so the same inputs give the same bytes.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::builder {

struct DiskBuild {
  uint64_t size_bytes = 4ull << 30;
  uint64_t esp_bytes = 128ull << 20;
  std::string seed;                      ///< identifiers derive from it (the definition hash)
  long source_date_epoch = 0;            ///< every timestamp
  std::string kernel;                    ///< path of the kernel to boot
  std::string initrd;                    ///< path of its initramfs
  std::vector<std::string> kernel_args;  ///< appended after root= and console=
  bool uefi = true;
  bool bios = true;
};

struct DiskResult {
  std::string root_partuuid;
  std::string root_fs_uuid;
  std::string disk_guid;
};

/// Builds `out` (a raw image) from the tree at `rootfs`. Work files live in
/// `work_dir`; `out` appears only when complete (temp name + rename).
Result<DiskResult> BuildDisk(const std::string& rootfs, const DiskBuild& spec, const std::string& work_dir,
                             const std::string& out);

/// A GUID/UUID string derived from seed and purpose.
std::string DerivedUuid(const std::string& seed, const std::string& purpose);

/// A boot ESP image: FAT32, shim and Debian's signed GRUB (UEFI, grub.cfg in
/// \EFI\debian) and SYSLINUX (BIOS, syslinux.cfg), the kernel as /vmlinuz
/// and the initramfs as /initrd.img, booting `cmdline`. Every time is
/// `source_date_epoch` and the volume id derives from `seed`.
struct EspSpec {
  uint64_t bytes = 128ull << 20;
  std::string seed;
  long source_date_epoch = 0;
  std::string kernel, initrd, cmdline;
  std::string title = "Slipway";
  bool uefi = true;
  bool bios = true;
};

/// Writes the ESP image `out` (a sparse file), staging in `work_dir`.
Status MakeEsp(const EspSpec& spec, const std::string& work_dir, const std::string& out);

/// An ext4 file system made by mkfs.ext4 -d from the tree `rootfs`, with
/// every identifier derived from `seed` and every time pinned to
/// `source_date_epoch` (the same tree gives the same bytes).
struct Ext4Spec {
  std::string label;
  std::string uuid;
  std::string seed;
  long source_date_epoch = 0;
  uint64_t offset = 0;  ///< where in `image` the file system starts
  uint64_t bytes = 0;   ///< its size
};

/// Writes the file system into `image` (which must exist, large enough).
Status MakeExt4(const std::string& rootfs, const Ext4Spec& spec, const std::string& work_dir, const std::string& image);

}  // namespace slipway::builder
