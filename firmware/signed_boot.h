// The signed UEFI boot chain of the installer ISO and the node images, all
// from Debian's own packages: shim (shim-signed, signed by Microsoft's UEFI
// CA 2011) as \EFI\BOOT\BOOTX64.EFI, Debian's signed GRUB
// (grub-efi-amd64-signed) as \EFI\BOOT\grubx64.efi beside it, and Debian's
// signed kernel (linux-image-*-amd64). GRUB's configuration is ours and is not
// signed; see docs/iso.md ("Secure Boot") for what is and is not verified.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::firmware {

/// shimx64.efi from shim-signed.
inline constexpr const char* kShim = "/usr/lib/shim/shimx64.efi.signed";
/// Debian's signed GRUB for CDs (Debian's own ISOs use it): its built-in
/// config finds the medium by /.disk/info and reads /boot/grub/grub.cfg there.
inline constexpr const char* kGrubCd = "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed";
/// Debian's signed GRUB for disks: its prefix is /EFI/debian on the ESP it
/// was loaded from, so it reads \EFI\debian\grub.cfg.
inline constexpr const char* kGrubDisk = "/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed";

/// Ok when `paths` exist; else an input error naming the missing file and the
/// Debian packages that ship the signed chain.
Status CheckSignedChain(const std::vector<std::string>& paths);

/// One GRUB boot entry.
struct GrubEntry {
  std::string title;
  std::string kernel;  ///< path on GRUB's root device, e.g. /boot/vmlinuz
  std::string initrd;
  std::string cmdline;  ///< split on white space; each word quoted for GRUB when it needs it
  /// When not empty, `search --fs-uuid` sets GRUB's root to this file system
  /// first (the ISO's own volume, not another medium's).
  std::string root_fs_uuid;
};

/// grub.cfg that boots `e` at once (timeout 0). A NUL in a value is an input
/// error.
Result<std::string> GrubConfig(const GrubEntry& e);

/// A GRUB word that GRUB's parser reads back as exactly `s`: as is when it is
/// only [A-Za-z0-9_.,:/=@+-], else single-quoted with each ' as '\''.
Result<std::string> GrubWord(std::string_view s);

/// The UUID GRUB gives an ISO9660 volume whose modification time is the
/// libisofs volume UUID of builder/iso_writer (from SOURCE_DATE_EPOCH):
/// "YYYY-MM-DD-hh-mm-ss-00".
std::string GrubIsoUuid(int64_t source_date_epoch);

}  // namespace slipway::firmware
