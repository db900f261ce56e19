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
  /// A Kubernetes bundle (folder or tarball, builder/kubernetes_bundle.h):
  /// verified before anything else, then placed in the image. Empty: the
  /// image carries no Kubernetes and its manifest says kNoKubernetesBundle.
  std::string kubernetes_bundle;
  long source_date_epoch = 0;
};

/// Builds the image of `def` (read from `def_file`). Returns the manifest.
/// A bundle that fails verification stops the build before the rootfs is
/// made (kInput, naming each file with its expected and actual sha256), and
/// nothing is left in `out_dir`.
Result<nlohmann::json> BuildImage(const std::string& def_file, const ImageDefinition& def, const BuildOptions& options);

}  // namespace slipway::builder
