// The offline Kubernetes bundle: the one owner of its format. A bundle is a
// folder or a tarball holding `kubernetes-bundle.toml` (the manifest) and
// every file the manifest lists, each with its kind, version and sha256:
// kubeadm, kubelet, kubectl and crictl, the CNI plugins, and the container
// image archives of the control plane, CoreDNS, pause and the chosen CNI
// (docs/kubernetes-bundle.md). Debian 12 packages no kubeadm or kubelet, so
// an air-gapped site assembles this bundle once on a connected machine.
//
// Reading a bundle copies every listed file into a staging folder while
// hashing it; only those verified copies are used afterwards, so a file that
// changes after the check cannot reach an image.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostics.h"
#include "common/error.h"
#include "common/toml_reader.h"

namespace slipway::builder {

/// The manifest's name at the bundle's root.
inline constexpr const char* kBundleManifestName = "kubernetes-bundle.toml";
/// A single bundle file bigger than this is refused (the largest upstream
/// image archive of a control-plane component is ~130 MB).
inline constexpr uint64_t kMaxBundleFileBytes = 4ull << 30;
/// All files of a bundle together.
inline constexpr uint64_t kMaxBundleBytes = 32ull << 30;
/// Entries of a bundle tarball (files and folders).
inline constexpr size_t kMaxBundleEntries = 10000;

/// What a bundle file is; decides where it goes in an image.
enum class BundleFileKind { kKubeadm, kKubelet, kKubectl, kCrictl, kKubeProxy, kContainerd, kCniPlugin, kImage };

/// The component a container image archive (kind "image") carries.
enum class ImageComponent {
  kKubeApiserver,
  kKubeControllerManager,
  kKubeScheduler,
  kKubeProxy,
  kCoreDns,
  kPause,
  kCni,
};

/// The operating system a file is for: Linux node images or the Windows kit.
enum class BundleOs { kLinux, kWindows };

std::string_view BundleFileKindName(BundleFileKind kind);
std::string_view ImageComponentName(ImageComponent component);
std::string_view BundleOsName(BundleOs os);

struct BundleFile {
  std::string path;  ///< relative to the bundle's root, '/'-separated, no ".."
  BundleFileKind kind = BundleFileKind::kKubeadm;
  BundleOs os = BundleOs::kLinux;
  std::string version;
  std::string sha256;                       ///< 64 lower-case hex digits
  std::string image;                        ///< kind image: the reference it imports as (registry.k8s.io/pause:3.9)
  std::optional<ImageComponent> component;  ///< kind image only
  SourcePos pos;                            ///< the [[file]] table in the manifest
};

struct BundleManifest {
  std::string file;                ///< where the manifest was read from (for messages)
  std::string kubernetes_version;  ///< MAJOR.MINOR.PATCH, without 'v'
  std::string cni;                 ///< the CNI the bundle's images are for (calico, flannel, ...)
  std::vector<BundleFile> files;
};

/// Reads a manifest. Every mistake becomes a located diagnostic (file, line,
/// column and the fix); returns nothing when there was any error. Checks
/// each entry on its own and against the others (paths unique, one of each
/// tool per OS, Kubernetes components at kubernetes_version), but not
/// completeness: see CheckBundleComplete.
std::optional<BundleManifest> ReadBundleManifest(const toml::table& root, const std::string& file, Diagnostics* diags);

/// Parses manifest text as if read from `display_path` (tests and fuzzing).
std::optional<BundleManifest> ParseBundleManifest(std::string_view text, const std::string& display_path,
                                                  Diagnostics* diags);

/// Reports, at the manifest's first line, every file `os` needs that the
/// bundle lacks. Linux: kubeadm, kubelet, kubectl, crictl, at least one CNI
/// plugin, and images of kube-apiserver, kube-controller-manager,
/// kube-scheduler, kube-proxy, CoreDNS, pause and the CNI. Windows: kubeadm,
/// kubelet, kube-proxy and containerd.
void CheckBundleComplete(const BundleManifest& m, BundleOs os, Diagnostics* diags);

/// A bundle whose every listed file was copied into `dir` and matched its
/// manifest sha256.
struct VerifiedBundle {
  BundleManifest manifest;
  std::string dir;  ///< staging folder: dir/<path> for each manifest file

  /// The verified copy of `f`.
  std::string PathOf(const BundleFile& f) const { return dir + "/" + f.path; }
};

/// Reads the manifest of `bundle` (a folder or a tarball), copies each
/// listed file into `staging` (which must not exist) and checks its sha256.
/// Errors (kInput, exit 2), with `staging` removed so nothing is left:
/// located manifest diagnostics (rendered in the message); a mismatch, naming
/// the file with the expected and the actual hash (every mismatch, not only
/// the first); a listed file that is missing; a file that is not listed; and,
/// in a tarball, an absolute path, "..", a link (one pointing out of the
/// bundle is named as such), a device or FIFO, an entry over
/// kMaxBundleFileBytes, or more than kMaxBundleEntries entries.
Result<VerifiedBundle> VerifyBundle(const std::string& bundle, const std::string& staging);

/// Reads only the manifest of `bundle` (no hashing): what `slipway plan`
/// needs to know the bundle's Kubernetes version.
Result<BundleManifest> ReadBundleManifestOf(const std::string& bundle);

/// Where a Linux bundle file goes in a node image (absolute, in the image).
std::string ImagePathOf(const BundleFile& f);

/// The folder of a node image that holds the image archives, and the
/// sha256sum list of them that node-setup checks before importing.
inline constexpr const char* kImageArchiveDir = "/var/lib/slipway/kubernetes/images";
inline constexpr const char* kImageArchiveSums = "/var/lib/slipway/kubernetes/images.sha256";

/// Installs the Linux files of `b` into the tree at `root`: kubeadm,
/// kubelet, kubectl and crictl in /usr/local/bin (0755), CNI plugins in
/// /opt/cni/bin (0755), image archives in kImageArchiveDir (0644) with
/// kImageArchiveSums, kubelet.service with kubeadm's drop-in (enabled),
/// /etc/crictl.yaml, and a containerd config whose sandbox image is the
/// bundle's pause (so nothing is pulled). REQUIRES: CheckBundleComplete
/// passed for BundleOs::kLinux. Returns the image paths written.
Result<std::vector<std::string>> InstallBundle(const std::string& root, const VerifiedBundle& b);

}  // namespace slipway::builder
