// NoCloud / config-drive seed ISOs (and the Windows answer ISOs), written
// with libarchive's ISO9660 writer (Rock Ridge + Joliet), and read back. A
// written file is created 0600 (it holds secrets), written to a temp name,
// fsynced and renamed.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace slipway::installer {

/// Writes `files` (path inside the ISO, content) as an ISO9660 image with
/// volume label `label` ("cidata" for NoCloud, "config-2" for cloudbase-init).
/// Timestamps are `mtime` so that the same input gives the same bytes.
Status WriteSeedIso(const std::string& path, const std::string& label,
                    const std::vector<std::pair<std::string, std::string>>& files, long mtime = 0);

/// Every regular file of an ISO9660 image (Rock Ridge names, no leading
/// "./"), read with libarchive, in archive order. Errors name the image.
Result<std::vector<std::pair<std::string, std::string>>> ReadIsoFiles(const std::string& path);

}  // namespace slipway::installer
