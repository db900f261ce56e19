// The installer ISO's live system, in two stages:
//  1. an initramfs (cpio newc + gzip, written with libarchive): a static
//     busybox, the kernel modules of [live] modules with their dependencies,
//     and installer/live/init, which finds the boot medium by its label,
//     mounts the medium's /live under a RAM overlay, mounts the CSVs and
//     switches to systemd;
//  2. the live root, staged as /live on the ISO: systemd, dbus-daemon and the
//     other [live] programs from the build machine, slipway and
//     slipway-installer, every shared library they need (ELF walker), the
//     installer's systemd unit and D-Bus policy, the profiles and firmware
//     catalogue. systemd starts slipway-installer.service on boot.
// The live root is not limited by the 32 MiB UEFI boot image; the initramfs is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "builder/image_definition.h"
#include "common/error.h"

namespace slipway::builder {

struct LiveInputs {
  std::string kernel_root;                    ///< see kernel_modules.h
  std::string data_dir;                       ///< profiles/, firmware/, installer/{systemd,dbus,live}
  std::vector<std::string> slipway_programs;  ///< slipway and slipway-installer of this build
  std::string medium_label;                   ///< the ISO's volume id, which stage 1 looks for
  long source_date_epoch = 0;
};

struct LiveSummary {
  std::string kernel_version;
  size_t programs = 0;   ///< ELF programs in the live root
  size_t libraries = 0;  ///< shared libraries (and the loader) they need
  size_t files = 0;      ///< every regular file of the live root
  uint64_t live_bytes = 0;
  size_t modules = 0;  ///< kernel modules in the initramfs
  uint64_t initrd_bytes = 0;
};

/// Writes `stage`/live/ (the live root) and `stage`/boot/vmlinuz and
/// `stage`/boot/initrd.img. REQUIRES: `stage` is a fresh folder. Errors name
/// what is missing: a program, a library, a module, the kernel, a data file.
Result<LiveSummary> StageLiveSystem(const LiveSpec& spec, const LiveInputs& in, const std::string& stage);

/// One entry of an initramfs: a directory, a file (content from `source`
/// or `content`), a symlink (`content` is the target) or a character device.
struct CpioEntry {
  enum class Kind { kDir, kFile, kSymlink, kCharDevice } kind = Kind::kFile;
  std::string path;     ///< inside the archive, without a leading '/'
  std::string source;   ///< file to copy, or "" to use `content`
  std::string content;  ///< file content or symlink target
  unsigned mode = 0644;
  unsigned major = 0, minor = 0;
};

/// Writes a gzip-compressed cpio newc archive (what the kernel unpacks as an
/// initramfs) with libarchive: entries in path order, every time
/// `mtime`, owner root, no gzip timestamp. The same entries give the same
/// bytes. Written to a temp name and renamed.
Status WriteInitramfs(std::vector<CpioEntry> entries, long mtime, const std::string& out);

}  // namespace slipway::builder
