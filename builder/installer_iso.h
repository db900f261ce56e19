// `slipway build iso`: stages the installer ISO's tree (ISOLINUX for BIOS, a
// FAT ESP image with systemd-boot for UEFI, the kernel and initramfs,
// profiles/, firmware/, an optional answer file and node images) and writes
// it with the libisofs writer.
#pragma once

#include <string>

#include "builder/image_definition.h"
#include "common/error.h"

namespace slipway::builder {

struct IsoBuildOptions {
  std::string out;         ///< the .iso to write
  std::string boot_dir;    ///< holds vmlinuz* and initrd.img* (a rootfs's /boot)
  std::string answer;      ///< copied to /slipway/answer.toml
  std::string images_dir;  ///< copied to /slipway/images
  std::string data_dir;    ///< holds profiles/ and firmware/
  long source_date_epoch = 0;
};

Status BuildInstallerIso(const ImageDefinition& def, const IsoBuildOptions& options);

}  // namespace slipway::builder
