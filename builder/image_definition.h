// Image definitions (images/*.toml): what the builder makes for each role —
// the Linux node, the load balancer, the Windows node kit and the installer
// ISO. This file defines and validates the schema (docs/profiles.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostics.h"
#include "common/toml_reader.h"

namespace slipway::builder {

/// The hardening steps the builder knows, in the order they are applied.
const std::vector<std::string>& KnownHardeningSteps();

struct RootfsSpec {
  std::string source = "mmdebstrap";  ///< "mmdebstrap", "tarball" or "directory"
  std::string suite = "bookworm";
  std::string path;  ///< tarball or directory (relative to the definition)
  std::vector<std::string> packages;
  bool allow_device_nodes = false;
  bool allow_absolute_symlinks = false;
};

struct DiskSpec {
  int64_t size_gib = 4;
  int64_t esp_mib = 128;
  std::vector<std::string> formats{"raw", "qcow2"};
  std::vector<std::string> boot{"uefi", "bios"};
};

struct HardeningSpec {
  std::vector<std::string> steps;
  std::vector<int64_t> open_tcp_ports;
  std::vector<int64_t> open_udp_ports;
  bool allow_vrrp = false;
  /// Kubernetes' NodePort range, 30000-32767/tcp, open on input (the ports
  /// a worker must accept from the load balancers).
  bool allow_node_ports = false;
  std::vector<std::string> setuid_allow;
};

struct WindowsSpec {
  std::string edition;  ///< e.g. "Windows Server 2022 SERVERSTANDARDCORE"
  int64_t min_media_mib = 1024;
  std::string locale = "en-US";
  std::vector<int64_t> open_tcp_ports;
};

struct IsoSpec {
  std::string volume_id = "SLIPWAY";
  std::vector<std::string> boot{"bios", "uefi"};
  std::string kernel_cmdline;
  int64_t esp_max_mib = 32;
  /// Ship the host system (common/host_system.h) for installs to a local
  /// disk: the live root as an ext4 image and the host disk's ESP image.
  bool host_system = false;
};

/// The installer ISO's live system (role installer): see builder/live_root.h.
struct LiveSpec {
  std::vector<std::string> programs;     ///< absolute paths on the build machine (ELF; libraries follow)
  std::vector<std::string> files;        ///< absolute paths copied as they are (units, D-Bus config)
  std::vector<std::string> modules;      ///< kernel modules stage 1 loads (dependencies follow)
  std::string busybox = "/bin/busybox";  ///< static busybox for stage 1
};

/// What an image definition builds; the TOML spells it as ToString gives.
enum class ImageRole { kLinuxNode, kLoadBalancer, kWindowsNode, kInstaller };

/// "linux-node", "loadbalancer", "windows-node" or "installer".
std::string_view ToString(ImageRole role);
/// The Linux disk images (`slipway build image` writes a GPT disk for these).
inline bool IsLinuxDiskRole(ImageRole role) {
  return role == ImageRole::kLinuxNode || role == ImageRole::kLoadBalancer;
}

struct ImageDefinition {
  std::string name;
  ImageRole role = ImageRole::kLinuxNode;  ///< always set in a definition ReadImageDefinition returns
  std::string description;
  std::string file;
  RootfsSpec rootfs;
  DiskSpec disk;
  HardeningSpec hardening;
  std::optional<WindowsSpec> windows;
  std::optional<IsoSpec> iso;
  std::optional<LiveSpec> live;
};

std::optional<ImageDefinition> ReadImageDefinition(const toml::table& root, const std::string& file,
                                                   Diagnostics* diags);

}  // namespace slipway::builder
