// The installer ISO writer, on libisofs (the engine inside xorriso): ISO9660
// with Rock Ridge and Joliet, an El Torito catalogue with a BIOS entry
// (ISOLINUX, boot info table) and a UEFI entry (platform 0xEF, a FAT ESP
// image), and an isohybrid MBR + GPT so the same file boots from a USB stick.
// Data is streamed once, from the staged files straight to the output.
#pragma once

#include <string>

#include "common/error.h"

namespace slipway::builder {

struct IsoOptions {
  std::string volume_id = "SLIPWAY";
  std::string bios_boot;  ///< path inside the tree, e.g. "isolinux/isolinux.bin" ("" = no BIOS entry)
  std::string boot_catalog = "isolinux/boot.cat";
  std::string efi_image;       ///< path inside the tree, e.g. "boot/efi.img" ("" = no UEFI entry)
  std::string isohybrid_mbr;   ///< host path of SYSLINUX's isohdpfx.bin ("" = not USB-bootable)
  long source_date_epoch = 0;  ///< every timestamp and the volume UUID
};

/// Writes the tree at `staging` as an ISO to `out` (temp name, fsync, rename).
Status WriteIso(const std::string& staging, const IsoOptions& options, const std::string& out);

}  // namespace slipway::builder
