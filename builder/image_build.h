// `slipway build image`: rootfs -> hardening -> first-boot agent -> disk
// (raw + qcow2) -> manifest.json. Outputs appear only when complete.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "builder/image_definition.h"
#include "common/error.h"

namespace slipway::builder {

struct BuildOptions {
  std::string out_dir;
  std::string rootfs;     ///< a directory or a tarball; overrides [rootfs]
  std::string cache_dir;  ///< mmdebstrap cache (default: <out>/.cache)
  long source_date_epoch = 0;
};

/// Builds the image of `def` (read from `def_file`). Returns the manifest.
Result<nlohmann::json> BuildImage(const std::string& def_file, const ImageDefinition& def, const BuildOptions& options);

}  // namespace slipway::builder
