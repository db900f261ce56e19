// The host system on the installer ISO: the one owner of its file names and
// manifest, written by the builder (`slipway build iso`) and read by the
// installer when it writes a host disk. Under /slipway/host on the medium:
//   esp.img          the host disk's ESP (shim + Debian's signed GRUB for
//                    UEFI, SYSLINUX for BIOS, the ISO's kernel and initramfs,
//                    booting with slipway.root=disk)
//   system.img       the live root as an ext4 image (label kSystemLabel):
//                    the same tree the ISO boots as /live
//   gptmbr.bin       SYSLINUX's GPT MBR boot code (the first 440 bytes)
//   host-system.json the manifest: sizes and sha256 of the three
// The file-system labels are also spelled in installer/live/init, which
// finds the host disk's partitions by them (a test checks both agree).
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace slipway {

inline constexpr const char* kHostSystemDir = "slipway/host";  ///< on the medium
inline constexpr const char* kHostSystemManifest = "host-system.json";
inline constexpr const char* kHostEspImage = "esp.img";
inline constexpr const char* kHostSystemImage = "system.img";
inline constexpr const char* kHostMbrCode = "gptmbr.bin";
inline constexpr const char* kSystemLabel = "slipway-sys";  ///< system partition A's ext4 label
inline constexpr const char* kDataLabel = "slipway-data";   ///< the persistent data partition's ext4 label
/// The kernel argument that makes stage 1 boot the host disk, not the medium.
inline constexpr const char* kBootFromDiskArg = "slipway.root=disk";

struct HostImageFile {
  std::string file;  ///< name in the host system folder
  uint64_t bytes = 0;
  std::string sha256;
};

struct HostSystemManifest {
  HostImageFile esp, system, mbr;
  std::string system_uuid;  ///< system.img's file-system UUID
  std::string cmdline;      ///< what the host disk boots with
};

/// Writes DIR/host-system.json (temp + rename).
Status WriteHostSystemManifest(const std::string& dir, const HostSystemManifest& m);

/// Reads DIR/host-system.json; errors name the file and what is wrong or
/// missing. Does not hash the images (the installer checks the sha256 while
/// it copies them).
Result<HostSystemManifest> ReadHostSystemManifest(const std::string& dir);

}  // namespace slipway
