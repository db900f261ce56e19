// Kubernetes bundles: placing a verified bundle's Linux files in a node
// image tree, with the kubelet unit (enabled), crictl's and containerd's
// configuration.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "builder/kubernetes_bundle.h"
#include "common/atomic_file.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

// The upstream kubelet unit and kubeadm's drop-in (kubernetes/release,
// "Without a package manager"), with the binaries in /usr/local/bin.
constexpr const char* kKubeletUnit =
    "[Unit]\nDescription=kubelet: The Kubernetes Node Agent (Slipway offline bundle)\n"
    "Documentation=https://kubernetes.io/docs/\nWants=network-online.target\n"
    "After=network-online.target containerd.service\n\n"
    "[Service]\nExecStart=/usr/local/bin/kubelet\nRestart=always\nStartLimitInterval=0\nRestartSec=10\n\n"
    "[Install]\nWantedBy=multi-user.target\n";
constexpr const char* kKubeadmDropIn =
    "# kubeadm's kubelet drop-in: kubelet waits for kubeadm init/join to write its config.\n"
    "[Service]\n"
    "Environment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf "
    "--kubeconfig=/etc/kubernetes/kubelet.conf\"\n"
    "Environment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\n"
    "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nEnvironmentFile=-/etc/default/kubelet\n"
    "ExecStart=\nExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS "
    "$KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS\n";
constexpr const char* kCrictlConfig =
    "runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: "
    "unix:///run/containerd/containerd.sock\n";

// containerd's CRI settings, rendered by toml++: the sandbox (pause) image is
// the bundle's, so that containerd never pulls its own default.
std::string ContainerdConfig(const std::string& pause_image) {
  toml::table options{{"SystemdCgroup", true}};
  toml::table runc{{"runtime_type", "io.containerd.runc.v2"}, {"options", options}};
  toml::table cri{{"sandbox_image", pause_image},
                  {"containerd", toml::table{{"runtimes", toml::table{{"runc", runc}}}}},
                  {"cni", toml::table{{"bin_dir", "/opt/cni/bin"}, {"conf_dir", "/etc/cni/net.d"}}}};
  toml::table root{{"version", 2}, {"plugins", toml::table{{"io.containerd.grpc.v1.cri", cri}}}};
  std::ostringstream out;
  out << "# Written by Slipway from the Kubernetes bundle; see docs/kubernetes-bundle.md.\n" << root << "\n";
  return out.str();
}

Status Place(const std::string& src, const std::string& dst, mode_t mode) {
  std::error_code ec;
  fs::create_directories(fs::path(dst).parent_path(), ec);
  fs::remove(dst, ec);
  fs::copy_file(src, dst, ec);
  if (ec) return Error::Runtime("cannot copy " + src + " to " + dst + ": " + ec.message());
  if (::chmod(dst.c_str(), mode) != 0) return Error::Errno("cannot chmod", dst, errno);
  if (::geteuid() == 0 && ::lchown(dst.c_str(), 0, 0) != 0) return Error::Errno("cannot chown", dst, errno);
  return Ok();
}

}  // namespace

std::string ImagePathOf(const BundleFile& f) {
  std::string base = fs::path(f.path).filename().string();
  switch (f.kind) {
    case BundleFileKind::kKubeadm:
    case BundleFileKind::kKubelet:
    case BundleFileKind::kKubectl:
    case BundleFileKind::kCrictl:
    case BundleFileKind::kKubeProxy:
    case BundleFileKind::kContainerd:
      return "/usr/local/bin/" + std::string(BundleFileKindName(f.kind));
    case BundleFileKind::kCniPlugin:
      return "/opt/cni/bin/" + base;
    case BundleFileKind::kImage:
      return std::string(kImageArchiveDir) + "/" + base;
  }
  return "";
}

Result<std::vector<std::string>> InstallBundle(const std::string& root, const VerifiedBundle& b) {
  std::map<std::string, const BundleFile*> placed;
  std::string pause;
  std::vector<std::string> sums;
  for (const BundleFile& f : b.manifest.files) {
    if (f.os != BundleOs::kLinux || f.kind == BundleFileKind::kContainerd) continue;  // Debian's containerd runs
    std::string dst = ImagePathOf(f);
    if (auto [it, fresh] = placed.emplace(dst, &f); !fresh) {
      return Error::Input(b.manifest.file + ": '" + it->second->path + "' and '" + f.path + "' would both be " + dst +
                          " in the image; give them different file names");
    }
    bool exec = f.kind != BundleFileKind::kImage;
    if (auto st = Place(b.PathOf(f), root + dst, exec ? 0755 : 0644); !st) return std::move(st).error();
    if (f.kind == BundleFileKind::kImage) sums.push_back(f.sha256 + "  " + fs::path(dst).filename().string());
    if (f.component == ImageComponent::kPause) pause = f.image;
  }
  std::sort(sums.begin(), sums.end(),
            [](const std::string& a, const std::string& c) { return a.substr(66) < c.substr(66); });
  std::string sum_text;
  for (const std::string& s : sums) sum_text += s + "\n";
  std::vector<std::pair<std::string, std::string>> files = {
      {kImageArchiveSums, sum_text},
      {"/var/lib/slipway/kubernetes/version", b.manifest.kubernetes_version + "\n"},
      {"/etc/systemd/system/kubelet.service", kKubeletUnit},
      {"/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", kKubeadmDropIn},
      {"/etc/crictl.yaml", kCrictlConfig},
      {"/etc/containerd/config.toml", ContainerdConfig(pause)},
  };
  std::error_code ec;
  for (const auto& [path, text] : files) {
    fs::create_directories(fs::path(root + path).parent_path(), ec);
    if (auto st = WriteFileAtomic(root + path, text, 0644); !st) return std::move(st).error();
  }
  fs::create_directories(root + "/etc/systemd/system/multi-user.target.wants", ec);
  std::string link = root + "/etc/systemd/system/multi-user.target.wants/kubelet.service";
  fs::remove(link, ec);
  fs::create_symlink("/etc/systemd/system/kubelet.service", link, ec);
  if (ec) return Error::Runtime("cannot enable kubelet.service: " + ec.message());
  std::vector<std::string> out;
  for (const auto& [path, f] : placed) out.push_back(path);
  return out;
}

}  // namespace slipway::builder
