// The host system that the installer writes to a local disk, staged on the
// installer ISO beside the live system (common/host_system.h owns the names):
// the staged live root made into an ext4 image (the same tree the ISO boots,
// as an image), and the host disk's ESP image with the ISO's kernel and
// initramfs. Both are reproducible: identifiers derive from the ISO's
// volume id and every time is SOURCE_DATE_EPOCH.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace slipway::builder {

struct HostSystemSummary {
  uint64_t esp_bytes = 0;
  uint64_t system_bytes = 0;
};

/// Reads `stage`/live, `stage`/boot/vmlinuz and `stage`/boot/initrd.img (as
/// StageLiveSystem left them) and writes `stage`/slipway/host/. The host
/// disk boots `cmdline` plus slipway.root=disk. Work files go to
/// `stage`.host, which is removed. REQUIRES: uefi or bios.
Result<HostSystemSummary> StageHostSystem(const std::string& stage, const std::string& cmdline, const std::string& seed,
                                          long source_date_epoch, bool uefi, bool bios);

}  // namespace slipway::builder
