// The Windows node kit. Windows media cannot be downloaded here, so Slipway
// builds everything around media the user supplies: it checks the media,
// generates a hardened autounattend.xml for Server Core and a first-boot
// PowerShell script, and packs them into an answer ISO (libarchive) that the
// executor attaches next to the media. Secrets stay {{secret:...}}
// references until apply time.
#pragma once

#include <string>
#include <vector>

#include "builder/image_definition.h"
#include "builder/kubernetes_bundle.h"
#include "common/error.h"

namespace slipway::builder {

/// What kind of media `path` is, after checking it: "iso" (a UDF image: the
/// anchor volume descriptor at sector 256) or "wim" (MSWIM header). Errors
/// say what is wrong and what to supply.
Result<std::string> CheckWindowsMedia(const std::string& path, int64_t min_mib);

/// autounattend.xml for `def` (Server Core edition, disk layout, locale,
/// Containers, OpenSSH, WinRM over HTTPS only, and the hardening steps).
std::string AutounattendXml(const ImageDefinition& def);

struct Artifact {
  std::string name;  ///< file name in the bundle (containerd.zip, kubelet.exe, ...)
  std::string sha256;
};

/// The first-boot script: checks every artifact's sha256, installs
/// containerd and kubelet, then joins with C:\slipway\kubeadm.yaml.
std::string FirstBootScript(const std::vector<Artifact>& artifacts);

/// The first-boot script of a kit built from a verified Kubernetes bundle:
/// its Windows files sit in slipway\kubernetes on the answer ISO; each is
/// checked against the manifest's sha256 again, containerd and kubelet are
/// installed, the Windows image archives are imported with
/// `ctr -n k8s.io images import` (nothing pulled), then kubeadm joins.
std::string BundleFirstBootScript(const BundleManifest& m);

struct WindowsKitOptions {
  /// A folder of loose artifacts, hashed as found (not verified).
  std::string artifacts_dir;
  /// A Kubernetes bundle (folder or tarball): verified and complete for
  /// Windows, its Windows files are packed into the answer ISO.
  std::string kubernetes_bundle;
};

/// Builds DIR/windows-node-answer.iso (+ the loose files) from `def`, the
/// media and the options. A bundle is verified before anything is written:
/// a mismatch names the file and both hashes, and `out_dir` gets nothing.
Status BuildWindowsKit(const ImageDefinition& def, const std::string& media, const WindowsKitOptions& options,
                       const std::string& out_dir);

}  // namespace slipway::builder
