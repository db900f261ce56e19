// Image definition schema and validation.
#include "builder/image_definition.h"

#include <algorithm>
#include <set>

#include "common/strings.h"

namespace slipway::builder {

std::string_view ToString(ImageRole role) {
  switch (role) {
    case ImageRole::kLinuxNode:
      return "linux-node";
    case ImageRole::kLoadBalancer:
      return "loadbalancer";
    case ImageRole::kWindowsNode:
      return "windows-node";
    case ImageRole::kInstaller:
      return "installer";
  }
  return "?";
}

const std::vector<std::string>& KnownHardeningSteps() {
  static const std::vector<std::string> kSteps = {"sysctl",    "sshd",           "nftables",      "auditd", "setuid",
                                                  "tmp-mount", "kernel-cmdline", "mask-services", "kubelet"};
  return kSteps;
}

namespace {

void ReadRootfs(const toml::table& t, ImageDefinition* d, Diagnostics* diags) {
  TableReader r(t, d->file, "[rootfs]", diags);
  RootfsSpec& s = d->rootfs;
  s.source = r.Enum("source", Need::kRequired, {"mmdebstrap", "tarball", "directory"}).value_or("mmdebstrap");
  s.suite = r.String("suite", Need::kOptional).value_or("bookworm");
  s.path = r.String("path", Need::kOptional).value_or("");
  s.packages = r.StringArray("packages", Need::kOptional).value_or(std::vector<std::string>{});
  s.allow_device_nodes = r.Bool("allow_device_nodes", Need::kOptional).value_or(false);
  s.allow_absolute_symlinks = r.Bool("allow_absolute_symlinks", Need::kOptional).value_or(false);
  if (s.source != "mmdebstrap" && s.path.empty() && !r.Has("path")) {
    diags->Error(r.TablePos(), "source '" + s.source + "' needs 'path' (the " + s.source + " to read)");
  }
  if (s.source == "mmdebstrap" && s.packages.empty() && !r.Has("packages")) {
    diags->Error(r.TablePos(), "source 'mmdebstrap' needs 'packages' (at least a kernel and systemd)");
  }
  std::set<std::string> seen;
  for (const std::string& p : s.packages) {
    if (!seen.insert(p).second) r.ErrorAt("packages", "package '" + p + "' is listed twice");
  }
  r.Finish();
}

void ReadDisk(const toml::table& t, ImageDefinition* d, Diagnostics* diags) {
  TableReader r(t, d->file, "[disk]", diags);
  DiskSpec& s = d->disk;
  s.size_gib = r.Int("size_gib", Need::kRequired, 1, 2048).value_or(4);
  s.esp_mib = r.Int("esp_mib", Need::kOptional, 33, 1024).value_or(128);
  auto check_list = [&](const char* key, const std::vector<std::string>& allowed, std::vector<std::string>* out) {
    auto list = r.StringArray(key, Need::kOptional);
    if (!list) return;
    if (list->empty()) r.ErrorAt(key, std::string("'") + key + "' must not be empty");
    for (const std::string& v : *list) {
      if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
        r.ErrorAt(key, std::string("'") + key + "' has '" + v + "'; allowed: " + QuoteList(allowed) +
                           DidYouMeanSuffix(v, allowed));
      }
    }
    *out = *list;
  };
  check_list("formats", {"raw", "qcow2"}, &s.formats);
  check_list("boot", {"uefi", "bios"}, &s.boot);
  if (s.esp_mib * 1024 * 1024 >= s.size_gib * 1024LL * 1024 * 1024) {
    r.ErrorAt("esp_mib", "'esp_mib' (" + std::to_string(s.esp_mib) +
                             " MiB) leaves no room for the root file "
                             "system in a " +
                             std::to_string(s.size_gib) + " GiB disk");
  }
  r.Finish();
}

void ReadHardening(const toml::table& t, ImageDefinition* d, Diagnostics* diags) {
  TableReader r(t, d->file, "[hardening]", diags);
  HardeningSpec& s = d->hardening;
  if (auto steps = r.StringArray("steps", Need::kRequired)) {
    std::set<std::string> seen;
    for (const std::string& step : *steps) {
      const auto& known = KnownHardeningSteps();
      if (std::find(known.begin(), known.end(), step) == known.end()) {
        r.ErrorAt("steps", "unknown hardening step '" + step + "'" + DidYouMeanSuffix(step, known) +
                               "; known steps: " + Join(known, ", "));
      } else if (!seen.insert(step).second) {
        r.ErrorAt("steps", "hardening step '" + step + "' is listed twice");
      }
    }
    s.steps = *steps;
  }
  s.open_tcp_ports = r.IntArray("open_tcp_ports", Need::kOptional, 1, 65535).value_or(std::vector<int64_t>{});
  s.open_udp_ports = r.IntArray("open_udp_ports", Need::kOptional, 1, 65535).value_or(std::vector<int64_t>{});
  s.allow_vrrp = r.Bool("allow_vrrp", Need::kOptional).value_or(false);
  s.allow_node_ports = r.Bool("allow_node_ports", Need::kOptional).value_or(false);
  s.setuid_allow = r.StringArray("setuid_allow", Need::kOptional).value_or(std::vector<std::string>{});
  for (const std::string& p : s.setuid_allow) {
    if (p.empty() || p[0] != '/')
      r.ErrorAt("setuid_allow", "'setuid_allow' entry '" + p + "' must be an absolute path");
  }
  r.Finish();
}

void ReadWindows(const toml::table& t, ImageDefinition* d, Diagnostics* diags) {
  TableReader r(t, d->file, "[windows]", diags);
  WindowsSpec s;
  s.edition = r.String("edition", Need::kRequired).value_or("");
  s.min_media_mib = r.Int("min_media_mib", Need::kOptional, 1, 1 << 20).value_or(1024);
  s.locale = r.String("locale", Need::kOptional).value_or("en-US");
  s.open_tcp_ports = r.IntArray("open_tcp_ports", Need::kOptional, 1, 65535).value_or(std::vector<int64_t>{});
  r.Finish();
  d->windows = std::move(s);
}

void ReadIso(const toml::table& t, ImageDefinition* d, Diagnostics* diags) {
  TableReader r(t, d->file, "[iso]", diags);
  IsoSpec s;
  if (auto v = r.String("volume_id", Need::kOptional)) {
    bool ok = !v->empty() && v->size() <= 32;
    for (char c : *v) ok = ok && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
    if (!ok)
      r.ErrorAt("volume_id",
                "'volume_id' '" + *v + "' must be 1 to 32 characters of A-Z, 0-9 and '_' (ISO9660 d-characters)");
    s.volume_id = *v;
  }
  if (auto boot = r.StringArray("boot", Need::kOptional)) {
    for (const std::string& b : *boot) {
      if (b != "bios" && b != "uefi") r.ErrorAt("boot", "'boot' has '" + b + "'; allowed: 'bios' or 'uefi'");
    }
    s.boot = *boot;
  }
  s.kernel_cmdline = r.String("kernel_cmdline", Need::kOptional).value_or("");
  s.esp_max_mib = r.Int("esp_max_mib", Need::kOptional, 1, 32).value_or(32);
  s.host_system = r.Bool("host_system", Need::kOptional).value_or(false);
  r.Finish();
  d->iso = std::move(s);
}

void ReadLive(const toml::table& t, ImageDefinition* d, Diagnostics* diags) {
  TableReader r(t, d->file, "[live]", diags);
  LiveSpec s;
  auto absolute = [&](const char* key, Need need) {
    std::vector<std::string> v = r.StringArray(key, need).value_or(std::vector<std::string>{});
    std::set<std::string> seen;
    for (const std::string& p : v) {
      if (p.empty() || p[0] != '/') r.ErrorAt(key, std::string("'") + key + "' has '" + p + "'; give absolute paths");
      if (!seen.insert(p).second) r.ErrorAt(key, "'" + p + "' is listed twice");
    }
    return v;
  };
  s.programs = absolute("programs", Need::kRequired);
  s.files = absolute("files", Need::kOptional);
  s.modules = r.StringArray("modules", Need::kOptional).value_or(std::vector<std::string>{});
  if (auto b = r.String("busybox", Need::kOptional)) s.busybox = *b;
  r.Finish();
  d->live = std::move(s);
}

}  // namespace

std::optional<ImageDefinition> ReadImageDefinition(const toml::table& root, const std::string& file,
                                                   Diagnostics* diags) {
  size_t errors_before = diags->ErrorCount();
  ImageDefinition d;
  d.file = file;
  TableReader top(root, file, "", diags);
  top.Allow("kind");
  if (auto name = top.String("name", Need::kRequired)) {
    std::string problem = Dns1123Problem(*name);
    if (!problem.empty()) top.ErrorAt("name", "'name' '" + *name + "' is not a valid DNS-1123 name: it " + problem);
    d.name = *name;
  }
  std::optional<ImageRole> role;
  if (auto name = top.Enum("role", Need::kRequired, {"linux-node", "loadbalancer", "windows-node", "installer"})) {
    for (ImageRole r :
         {ImageRole::kLinuxNode, ImageRole::kLoadBalancer, ImageRole::kWindowsNode, ImageRole::kInstaller}) {
      if (ToString(r) == *name) role = r;
    }
  }
  if (role) d.role = *role;
  d.description = top.String("description", Need::kOptional).value_or("");

  // Each role has its own sections; a section that does not belong is an error.
  auto section = [&](const char* key, bool belongs, Need need, const char* roles, auto read) {
    if (belongs) {
      if (const toml::table* t = top.Table(key, need)) read(*t, &d, diags);
    } else if (top.Has(key)) {
      top.Allow(key);
      top.ErrorAt(key, std::string("[") + key + "] is only for role " + roles + ", not '" +
                           std::string(ToString(d.role)) + "'");
    }
  };
  if (role) {
    const bool linux_role = IsLinuxDiskRole(d.role);
    const bool windows = d.role == ImageRole::kWindowsNode;
    const bool installer = d.role == ImageRole::kInstaller;
    section("rootfs", linux_role, Need::kRequired, "'linux-node' or 'loadbalancer'", ReadRootfs);
    section("disk", linux_role, Need::kRequired, "'linux-node' or 'loadbalancer'", ReadDisk);
    section("hardening", linux_role || windows, linux_role ? Need::kRequired : Need::kOptional,
            "'linux-node', 'loadbalancer' or 'windows-node'", ReadHardening);
    section("windows", windows, Need::kRequired, "'windows-node'", ReadWindows);
    section("iso", installer, Need::kRequired, "'installer'", ReadIso);
    section("live", installer, Need::kRequired, "'installer'", ReadLive);
  }
  top.Finish();
  if (role && d.role == ImageRole::kLoadBalancer && !d.hardening.allow_vrrp && diags->ErrorCount() == errors_before) {
    diags->Error(top.TablePos(), "a load-balancer image needs [hardening] allow_vrrp = true for keepalived");
  }
  if (diags->ErrorCount() != errors_before) return std::nullopt;
  return d;
}

}  // namespace slipway::builder
