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

/// Builds DIR/windows-node-answer.iso (+ the loose files) from `def`, the
/// media and the artifact bundle folder (its files are hashed, not copied).
Status BuildWindowsKit(const ImageDefinition& def, const std::string& media, const std::string& artifacts_dir,
                       const std::string& out_dir);

}  // namespace slipway::builder
