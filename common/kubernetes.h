// What a node image says about Kubernetes, shared by the builder (which
// writes it into <image>.manifest.json), `slipway plan` and the installer
// (which read it). The bundle format itself is builder/kubernetes_bundle.h.
#pragma once

#include <string>

#include "common/error.h"

namespace slipway {

/// The one line printed by the image build, `slipway plan` and the
/// installer report when the node images carry no Kubernetes, so that such
/// a deployment never looks like a finished cluster.
inline constexpr const char* kNoKubernetesBundle = "no Kubernetes bundle: nodes run etcd and containerd only";

/// The key of an image manifest that records the bundle: {"version",
/// "cni", "files": [...]} with a bundle, {"bundle": false, "note":
/// kNoKubernetesBundle} without.
inline constexpr const char* kImageManifestKubernetes = "kubernetes";

/// The Kubernetes version of the node image whose manifest is at
/// `manifest_path`: "" when the image has no bundle or the manifest does not
/// exist. Errors: the manifest cannot be read or parsed.
Result<std::string> ImageKubernetesVersion(const std::string& manifest_path);

}  // namespace slipway
