// Hardening steps.
#include "builder/harden.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "builder/rootfs.h"
#include "common/atomic_file.h"
#include "common/strings.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

Status Write(const std::string& root, const std::string& path, const std::string& text, mode_t mode,
             HardeningRecord* rec) {
  std::error_code ec;
  fs::create_directories(fs::path(root + path).parent_path(), ec);
  if (auto st = WriteFileAtomic(root + path, text, mode); !st) return st;
  rec->changes.push_back("wrote " + path);
  return Ok();
}

// Sets "Key value" lines in an sshd_config-style file: replaces the first
// (possibly commented) occurrence of each key, appends the missing ones.
std::string SetKeys(const std::string& text, const std::vector<std::pair<std::string, std::string>>& kv) {
  std::vector<std::string> lines = Split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  for (const auto& [k, v] : kv) {
    bool done = false;
    for (std::string& line : lines) {
      std::string_view t = Trim(line);
      if (!t.empty() && t[0] == '#') t = Trim(t.substr(1));
      std::string key(t.substr(0, t.find_first_of(" \t")));
      std::string lk = key, lkk = k;
      std::transform(lk.begin(), lk.end(), lk.begin(), ::tolower);
      std::transform(lkk.begin(), lkk.end(), lkk.begin(), ::tolower);
      if (lk == lkk) {
        line = done ? "" : k + " " + v;
        done = true;
      }
    }
    if (!done) lines.push_back(k + " " + v);
  }
  lines.erase(std::remove(lines.begin(), lines.end(), std::string()), lines.end());
  return Join(lines, "\n") + "\n";
}

Status Sysctl(const std::string& root, const ImageDefinition& def, HardeningRecord* rec) {
  std::string text =
      "# Slipway hardening. Forwarding stays on: Kubernetes nodes route pod traffic.\n"
      "kernel.kptr_restrict = 2\nkernel.dmesg_restrict = 1\nkernel.yama.ptrace_scope = 1\n"
      "kernel.unprivileged_bpf_disabled = 1\nnet.core.bpf_jit_harden = 2\nkernel.randomize_va_space = 2\n"
      "kernel.sysrq = 0\nkernel.perf_event_paranoid = 3\nfs.protected_hardlinks = 1\nfs.protected_symlinks = 1\n"
      "fs.protected_fifos = 2\nfs.protected_regular = 2\nfs.suid_dumpable = 0\n"
      "net.ipv4.conf.all.rp_filter = 1\nnet.ipv4.conf.default.rp_filter = 1\n"
      "net.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.conf.default.accept_redirects = 0\n"
      "net.ipv4.conf.all.secure_redirects = 0\nnet.ipv4.conf.default.secure_redirects = 0\n"
      "net.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.default.send_redirects = 0\n"
      "net.ipv4.conf.all.accept_source_route = 0\nnet.ipv4.conf.default.accept_source_route = 0\n"
      "net.ipv4.conf.all.log_martians = 1\nnet.ipv4.conf.default.log_martians = 1\n"
      "net.ipv4.icmp_echo_ignore_broadcasts = 1\nnet.ipv4.icmp_ignore_bogus_error_responses = 1\n"
      "net.ipv4.tcp_syncookies = 1\nnet.ipv6.conf.all.accept_ra = 0\nnet.ipv6.conf.default.accept_ra = 0\n"
      "net.ipv6.conf.all.accept_redirects = 0\nnet.ipv6.conf.default.accept_redirects = 0\n"
      "net.ipv6.conf.all.accept_source_route = 0\nnet.ipv6.conf.default.accept_source_route = 0\n"
      "net.ipv4.ip_forward = 1\n";
  if (def.role == ImageRole::kLoadBalancer)
    text += "# keepalived moves the VIP between LBs.\nnet.ipv4.ip_nonlocal_bind = 1\n";
  return Write(root, "/etc/sysctl.d/90-slipway-hardening.conf", text, 0644, rec);
}

Status Sshd(const std::string& root, const ImageDefinition& def, HardeningRecord* rec) {
  // A load balancer lets root in only with a key whose authorized_keys line
  // forces a command: the cluster's lb-apply key (common/lb_apply.h).
  const std::vector<std::pair<std::string, std::string>> kv = {
      {"PermitRootLogin", def.role == ImageRole::kLoadBalancer ? "forced-commands-only" : "no"},
      // The one host key each VM makes at first boot (agent.cc).
      {"HostKey", "/etc/ssh/ssh_host_ed25519_key"},
      {"PasswordAuthentication", "no"},
      {"KbdInteractiveAuthentication", "no"},
      {"PermitEmptyPasswords", "no"},
      {"PermitUserEnvironment", "no"},
      {"HostbasedAuthentication", "no"},
      {"IgnoreRhosts", "yes"},
      {"X11Forwarding", "no"},
      {"MaxAuthTries", "3"},
      {"LoginGraceTime", "60"},
      {"ClientAliveInterval", "300"},
      {"ClientAliveCountMax", "0"},
      {"LogLevel", "VERBOSE"},
      {"Ciphers", "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes128-ctr"},
      {"MACs", "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com"},
      {"KexAlgorithms", "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org"},
  };
  std::string main = root + "/etc/ssh/sshd_config";
  std::string text;
  if (fs::exists(main)) {
    auto r = ReadFile(main);
    if (!r) return std::move(r).error();
    text = *r;
  }
  if (auto st = Write(root, "/etc/ssh/sshd_config", SetKeys(text, kv), 0600, rec); !st) return st;
  // The host keys openssh-server's install made would be the same in every
  // VM of the image: any VM could then pose as any other. Each VM makes its
  // own at first boot (the agent runs ssh-keygen -A before sshd starts).
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/etc/ssh", ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("ssh_host_", 0) != 0) continue;
    fs::remove(e.path(), ec);
    if (ec) return Error::Runtime("cannot remove " + e.path().string() + ": " + ec.message());
    rec->changes.push_back("removed /etc/ssh/" + name);
  }
  std::string dropin = "# Slipway hardening (also set in sshd_config).\n";
  for (const auto& [k, v] : kv) dropin += k + " " + v + "\n";
  return Write(root, "/etc/ssh/sshd_config.d/90-slipway.conf", dropin, 0600, rec);
}

Status Nftables(const std::string& root, const ImageDefinition& def, HardeningRecord* rec) {
  auto ports = [](const std::vector<int64_t>& p) {
    std::vector<std::string> s;
    for (int64_t v : p) s.push_back(std::to_string(v));
    return Join(s, ", ");
  };
  std::string text =
      "#!/usr/sbin/nft -f\n# Slipway: default-deny inbound; only the ports of this image's role are open.\n"
      "flush ruleset\n\ntable inet filter {\n";
  if (def.role == ImageRole::kLoadBalancer) text += "  set service_ports {\n    type inet_service\n  }\n";
  text +=
      "  chain input {\n    type filter hook input priority 0; policy drop;\n"
      "    ct state established,related accept\n    ct state invalid drop\n    iif lo accept\n"
      // Protocol numbers, not names: nft resolves names through /etc/protocols,
      // which a minbase Debian tree lacks (netbase is not installed).
      "    meta l4proto { 1, 58 } limit rate 10/second accept comment \"icmp, ipv6-icmp\"\n";
  if (!def.hardening.open_tcp_ports.empty())
    text += "    tcp dport { " + ports(def.hardening.open_tcp_ports) + " } accept\n";
  if (!def.hardening.open_udp_ports.empty())
    text += "    udp dport { " + ports(def.hardening.open_udp_ports) + " } accept\n";
  if (def.hardening.allow_node_ports) text += "    tcp dport 30000-32767 accept comment \"NodePorts\"\n";
  if (def.hardening.allow_vrrp) text += "    ip protocol 112 accept comment \"vrrp\"\n";
  // A load balancer's Service ports: lb-apply fills the set, and keeps its
  // elements in /etc/slipway/lb/ports.nft, which is read back at boot.
  if (def.role == ImageRole::kLoadBalancer)
    text += "    tcp dport @service_ports accept comment \"Services (lb-apply)\"\n";
  text +=
      "  }\n"
      "  chain forward {\n    type filter hook forward priority 0; policy accept;\n  }\n"
      "  chain output {\n    type filter hook output priority 0; policy accept;\n  }\n}\n";
  if (def.role == ImageRole::kLoadBalancer) text += "include \"/etc/slipway/lb/*.nft\"\n";
  if (auto st = Write(root, "/etc/nftables.conf", text, 0755, rec); !st) return st;
  std::string wants = root + "/etc/systemd/system/sysinit.target.wants";
  std::error_code ec;
  fs::create_directories(wants, ec);
  fs::remove(wants + "/nftables.service", ec);
  fs::create_symlink("/lib/systemd/system/nftables.service", wants + "/nftables.service", ec);
  rec->changes.push_back("enabled nftables.service");
  return Ok();
}

Status Auditd(const std::string& root, const ImageDefinition&, HardeningRecord* rec) {
  std::string text =
      "## Slipway audit rules\n-D\n-b 8192\n-f 1\n"
      "-w /etc/passwd -p wa -k identity\n-w /etc/shadow -p wa -k identity\n-w /etc/group -p wa -k identity\n"
      "-w /etc/gshadow -p wa -k identity\n-w /etc/security/opasswd -p wa -k identity\n"
      "-w /etc/sudoers -p wa -k scope\n-w /etc/sudoers.d/ -p wa -k scope\n"
      "-w /var/log/sudo.log -p wa -k actions\n-w /etc/ssh/sshd_config -p wa -k sshd\n"
      "-w /etc/kubernetes/ -p wa -k kubernetes\n-w /var/lib/kubelet/ -p wa -k kubelet\n"
      "-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change\n"
      "-a always,exit -F arch=b64 -S sethostname,setdomainname -k system-locale\n"
      "-a always,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=unset -k mounts\n"
      "-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k modules\n"
      "-a always,exit -F arch=b64 -S chmod,fchmod,fchmodat -F auid>=1000 -F auid!=unset -k perm_mod\n"
      "-a always,exit -F arch=b64 -S unlink,unlinkat,rename,renameat -F auid>=1000 -F auid!=unset -k delete\n"
      "-w /var/log/lastlog -p wa -k logins\n-w /var/run/faillock -p wa -k logins\n"
      "-e 2\n";
  return Write(root, "/etc/audit/rules.d/90-slipway.rules", text, 0640, rec);
}

Status Setuid(const std::string& root, const ImageDefinition& def, HardeningRecord* rec) {
  std::error_code ec;
  std::vector<std::string> stripped;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink() || !it->is_regular_file()) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !(st.st_mode & (S_ISUID | S_ISGID))) continue;
    std::string rel = "/" + it->path().lexically_relative(root).string();
    const auto& allow = def.hardening.setuid_allow;
    if (std::find(allow.begin(), allow.end(), rel) != allow.end()) continue;
    if (auto b = BreakHardLink(it->path().string()); !b) return b;
    ::chmod(it->path().c_str(), st.st_mode & 0777 & ~static_cast<mode_t>(S_ISUID | S_ISGID));
    stripped.push_back(rel);
  }
  std::sort(stripped.begin(), stripped.end());
  for (const std::string& s : stripped) rec->changes.push_back("removed setuid/setgid from " + s);
  if (stripped.empty()) rec->changes.push_back("no setuid/setgid file outside the allow-list");
  return Ok();
}

Status TmpMount(const std::string& root, const ImageDefinition&, HardeningRecord* rec) {
  std::string fstab = root + "/etc/fstab", text;
  if (fs::exists(fstab)) {
    auto r = ReadFile(fstab);
    if (!r) return std::move(r).error();
    text = *r;
  }
  std::vector<std::string> keep;
  for (const std::string& line : Split(text, '\n')) {
    auto f = Split(std::string(Trim(line)), ' ');
    bool ours = f.size() > 1 && (f[1] == "/tmp" || f[1] == "/dev/shm" || f[1] == "/var/tmp");
    if (!ours && !line.empty()) keep.push_back(line);
  }
  keep.push_back("tmpfs /tmp tmpfs defaults,nodev,nosuid,noexec,mode=1777,size=25% 0 0");
  keep.push_back("tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0");
  keep.push_back("/tmp /var/tmp none bind,nodev,nosuid,noexec 0 0");
  return Write(root, "/etc/fstab", Join(keep, "\n") + "\n", 0644, rec);
}

Status KernelCmdline(const std::string& root, const ImageDefinition&, HardeningRecord* rec) {
  // The kernel's symbol map helps attackers as much as /proc/kallsyms does.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/boot", ec)) {
    if (StartsWith(e.path().filename().string(), "System.map") && e.is_regular_file()) {
      if (auto b = BreakHardLink(e.path().string()); !b) return b;
      ::chmod(e.path().c_str(), 0600);
      rec->changes.push_back("restricted /boot/" + e.path().filename().string() + " to 0600");
    }
  }
  return Write(root, "/etc/kernel/cmdline.d/90-slipway.conf", Join(HardenedKernelArgs(), " ") + "\n", 0644, rec);
}

Status MaskServices(const std::string& root, const ImageDefinition&, HardeningRecord* rec) {
  static const char* kUnits[] = {"avahi-daemon.service", "avahi-daemon.socket",  "cups.service",       "cups.socket",
                                 "bluetooth.service",    "ModemManager.service", "rpcbind.service",    "rpcbind.socket",
                                 "debug-shell.service",  "ctrl-alt-del.target",  "nfs-server.service", "telnet.socket",
                                 "rsh.socket",           "tftp.socket"};
  std::error_code ec;
  fs::create_directories(root + "/etc/systemd/system", ec);
  for (const char* u : kUnits) {
    std::string link = root + "/etc/systemd/system/" + u;
    fs::remove(link, ec);
    fs::create_symlink("/dev/null", link, ec);
    rec->changes.push_back(std::string("masked ") + u);
  }
  return Ok();
}

Status Kubelet(const std::string& root, const ImageDefinition&, HardeningRecord* rec) {
  std::string text =
      "# Slipway kubelet hardening defaults; kubeadm merges its own settings.\n"
      "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
      "authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    enabled: true\n"
      "authorization:\n  mode: Webhook\nreadOnlyPort: 0\nprotectKernelDefaults: true\n"
      "makeIPTablesUtilChains: true\nrotateCertificates: true\nserverTLSBootstrap: true\n"
      "tlsMinVersion: VersionTLS12\nstreamingConnectionIdleTimeout: 5m\neventRecordQPS: 5\n";
  return Write(root, "/var/lib/kubelet/config.yaml", text, 0600, rec);
}

}  // namespace

const std::vector<std::string>& HardenedKernelArgs() {
  static const std::vector<std::string> kArgs = {"slab_nomerge",   "init_on_alloc=1",
                                                 "init_on_free=1", "page_alloc.shuffle=1",
                                                 "pti=on",         "randomize_kstack_offset=on",
                                                 "vsyscall=none",  "debugfs=off",
                                                 "audit=1",        "audit_backlog_limit=8192"};
  return kArgs;
}

Result<std::vector<HardeningRecord>> Harden(const std::string& root, const ImageDefinition& def) {
  using StepFn = Status (*)(const std::string&, const ImageDefinition&, HardeningRecord*);
  static const std::map<std::string, StepFn> kSteps = {{"sysctl", Sysctl},
                                                       {"sshd", Sshd},
                                                       {"nftables", Nftables},
                                                       {"auditd", Auditd},
                                                       {"setuid", Setuid},
                                                       {"tmp-mount", TmpMount},
                                                       {"kernel-cmdline", KernelCmdline},
                                                       {"mask-services", MaskServices},
                                                       {"kubelet", Kubelet}};
  std::vector<HardeningRecord> out;
  for (const std::string& step : def.hardening.steps) {
    auto it = kSteps.find(step);
    if (it == kSteps.end()) return Error::Input("unknown hardening step '" + step + "'");
    HardeningRecord rec{step, {}};
    if (auto st = it->second(root, def, &rec); !st) return std::move(st).error().Context("hardening step " + step);
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace slipway::builder
