// Staging trees for the ISO writer: files are hard-linked where the file
// system allows (a node image is gigabytes; the writer reads it once, from
// wherever it is) and copied otherwise. The ISO gets SOURCE_DATE_EPOCH as
// every timestamp and root as every owner, whatever the staged inodes say.
#pragma once

#include <string>

#include "common/error.h"

namespace slipway::builder {

/// Stages `src` (a file, or a folder with everything in it) at `dst`,
/// creating `dst`'s parent folders. Errors name `src`.
Status StageFile(const std::string& src, const std::string& dst);

}  // namespace slipway::builder
