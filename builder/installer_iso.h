// `slipway build iso`: stages the installer ISO's tree (ISOLINUX for BIOS, a
// FAT ESP image with shim and Debian's signed GRUB for UEFI, the kernel, the live system of
// builder/live_root.h, profiles/, firmware/, an optional answer file and
// node images) and writes it with the libisofs writer.
#pragma once

#include <string>
#include <vector>

#include "builder/image_definition.h"
#include "builder/live_root.h"
#include "common/error.h"

namespace slipway::builder {

struct IsoBuildOptions {
  std::string out;                            ///< the .iso to write
  std::string kernel_root = "/";              ///< boot/vmlinuz-V and lib/modules/V (kernel_modules.h)
  std::vector<std::string> slipway_programs;  ///< slipway and slipway-installer for the live root
  std::string boot_dir;                       ///< instead of a live system: vmlinuz* and initrd.img* used as they are
  std::string answer;                         ///< copied to /slipway/answer.toml
  std::string images_dir;                     ///< copied to /slipway/images
  std::string data_dir;                       ///< holds profiles/ and firmware/
  long source_date_epoch = 0;
};

struct IsoBuildSummary {
  LiveSummary live;  ///< empty with boot_dir
  uint64_t iso_bytes = 0;
  uint64_t host_esp_bytes = 0;     ///< 0 without [iso] host_system
  uint64_t host_system_bytes = 0;  ///< the live root's ext4 image
};

/// Builds the ISO at options.out (temp name, then renamed). On failure no
/// ISO and no staging folder is left.
Result<IsoBuildSummary> BuildInstallerIso(const ImageDefinition& def, const IsoBuildOptions& options);

}  // namespace slipway::builder
