// Hardening steps applied to a fixture tree.
#include "builder/harden.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "builder/rootfs.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::builder;
namespace fs = std::filesystem;

namespace {

ImageDefinition NodeDef() {
  ImageDefinition d;
  d.name = "linux-node";
  d.role = ImageRole::kLinuxNode;
  d.hardening.steps = KnownHardeningSteps();
  d.hardening.open_tcp_ports = {22, 6443, 10250};
  d.hardening.open_udp_ports = {8472};
  d.hardening.setuid_allow = {"/usr/bin/sudo"};
  d.hardening.allow_node_ports = true;
  return d;
}

// A small tree like a Debian rootfs: a stock sshd_config, an fstab and two
// setuid programs.
void MakeTree(const testing::TempDir& t) {
  testing::WriteText(t / "root/etc/ssh/sshd_config",
                     "Include /etc/ssh/sshd_config.d/*.conf\n#PermitRootLogin prohibit-password\n"
                     "PasswordAuthentication yes\nX11Forwarding yes\n");
  testing::WriteText(t / "root/etc/fstab", "UUID=1234 / ext4 defaults 0 1\ntmpfs /tmp tmpfs defaults 0 0\n");
  // The host keys openssh-server's postinst makes in the image build.
  testing::WriteText(t / "root/etc/ssh/ssh_host_ed25519_key", "private");
  testing::WriteText(t / "root/etc/ssh/ssh_host_ed25519_key.pub", "public");
  testing::WriteText(t / "root/usr/bin/sudo", "elf");
  testing::WriteText(t / "root/usr/bin/mount", "elf");
  ::chmod((t / "root/usr/bin/sudo").c_str(), 04755);
  ::chmod((t / "root/usr/bin/mount").c_str(), 04755);
}

mode_t Mode(const std::string& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("every hardening step changes the tree as declared") {
  testing::TempDir t;
  MakeTree(t);
  auto recs = Harden(t / "root", NodeDef());
  REQUIRE(recs.ok());
  REQUIRE(recs->size() == KnownHardeningSteps().size());
  std::string sshd = testing::ReadText(t / "root/etc/ssh/sshd_config");
  CHECK(sshd.find("PermitRootLogin no\n") != std::string::npos);
  CHECK(sshd.find("PasswordAuthentication no\n") != std::string::npos);
  CHECK(sshd.find("PasswordAuthentication yes") == std::string::npos);
  // No host key is shared by every VM of the image: each makes its own.
  CHECK(!fs::exists(t / "root/etc/ssh/ssh_host_ed25519_key"));
  CHECK(!fs::exists(t / "root/etc/ssh/ssh_host_ed25519_key.pub"));
  CHECK(sshd.find("HostKey /etc/ssh/ssh_host_ed25519_key\n") != std::string::npos);
  CHECK(sshd.find("X11Forwarding no\n") != std::string::npos);
  CHECK(sshd.find("Ciphers chacha20-poly1305@openssh.com") != std::string::npos);
  CHECK(sshd.rfind("Include /etc/ssh/sshd_config.d/*.conf\n", 0) == 0);
  CHECK(Mode(t / "root/etc/ssh/sshd_config") == 0600);
  std::string nft = testing::ReadText(t / "root/etc/nftables.conf");
  CHECK(nft.find("policy drop;") != std::string::npos);
  CHECK(nft.find("tcp dport { 22, 6443, 10250 } accept") != std::string::npos);
  CHECK(nft.find("udp dport { 8472 } accept") != std::string::npos);
  CHECK(nft.find("vrrp") == std::string::npos);
  CHECK(nft.find("tcp dport 30000-32767 accept comment \"NodePorts\"") != std::string::npos);
  CHECK(nft.find("service_ports") == std::string::npos);  // a load balancer's only
  CHECK(fs::read_symlink(t / "root/etc/systemd/system/sysinit.target.wants/nftables.service") ==
        "/lib/systemd/system/nftables.service");
  CHECK(Mode(t / "root/usr/bin/sudo") == 04755);  // allow-listed
  CHECK(Mode(t / "root/usr/bin/mount") == 0755);  // stripped
  CHECK((*recs)[4].changes == std::vector<std::string>{"removed setuid/setgid from /usr/bin/mount"});
  std::string fstab = testing::ReadText(t / "root/etc/fstab");
  CHECK(fstab ==
        "UUID=1234 / ext4 defaults 0 1\ntmpfs /tmp tmpfs defaults,nodev,nosuid,noexec,mode=1777,size=25% 0 0\n"
        "tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\n/tmp /var/tmp none bind,nodev,nosuid,noexec 0 0\n");
  CHECK(testing::ReadText(t / "root/etc/sysctl.d/90-slipway-hardening.conf").find("kernel.kptr_restrict = 2") !=
        std::string::npos);
  CHECK(testing::ReadText(t / "root/etc/audit/rules.d/90-slipway.rules").find("-e 2\n") != std::string::npos);
  CHECK(fs::read_symlink(t / "root/etc/systemd/system/debug-shell.service") == "/dev/null");
  std::string kubelet = testing::ReadText(t / "root/var/lib/kubelet/config.yaml");
  CHECK(kubelet.find("readOnlyPort: 0") != std::string::npos);
  CHECK(kubelet.find("anonymous:\n    enabled: false") != std::string::npos);
  CHECK(testing::ReadText(t / "root/etc/kernel/cmdline.d/90-slipway.conf").find("init_on_alloc=1") !=
        std::string::npos);
}

TEST_CASE("hardening is idempotent") {
  testing::TempDir t;
  MakeTree(t);
  REQUIRE(Harden(t / "root", NodeDef()).ok());
  std::string once = testing::ReadText(t / "root/etc/ssh/sshd_config") + testing::ReadText(t / "root/etc/fstab");
  REQUIRE(Harden(t / "root", NodeDef()).ok());
  CHECK(testing::ReadText(t / "root/etc/ssh/sshd_config") + testing::ReadText(t / "root/etc/fstab") == once);
}

TEST_CASE("the load-balancer role opens VRRP and allows binding the VIP") {
  testing::TempDir t;
  MakeTree(t);
  ImageDefinition lb = NodeDef();
  lb.role = ImageRole::kLoadBalancer;
  lb.hardening.allow_vrrp = true;
  lb.hardening.allow_node_ports = false;
  lb.hardening.steps = {"sysctl", "nftables", "sshd"};
  REQUIRE(Harden(t / "root", lb).ok());
  std::string nft = testing::ReadText(t / "root/etc/nftables.conf");
  CHECK(nft.find("ip protocol 112 accept comment \"vrrp\"") != std::string::npos);
  // lb-apply's Service ports: a set, its rule, and the kept elements.
  CHECK(nft.find("  set service_ports {\n    type inet_service\n  }\n  chain input {") != std::string::npos);
  CHECK(nft.find("tcp dport @service_ports accept") != std::string::npos);
  CHECK(nft.find("include \"/etc/slipway/lb/*.nft\"") != std::string::npos);
  CHECK(nft.find("30000-32767") == std::string::npos);
  // Root only with a key that forces a command (lb sync's key).
  CHECK(testing::ReadText(t / "root/etc/ssh/sshd_config").find("PermitRootLogin forced-commands-only\n") !=
        std::string::npos);
  CHECK(testing::ReadText(t / "root/etc/sysctl.d/90-slipway-hardening.conf").find("net.ipv4.ip_nonlocal_bind = 1") !=
        std::string::npos);
}

TEST_CASE("hardening a hard-link copy of a tree leaves the source tree untouched") {
  testing::TempDir t;
  MakeTree(t);
  testing::WriteText(t / "root/boot/System.map-6.1.0", "ffffffff81000000 T _text\n");
  ::chmod((t / "root/boot/System.map-6.1.0").c_str(), 0644);
  std::string fstab = testing::ReadText(t / "root/etc/fstab");
  REQUIRE(CopyTree(t / "root", t / "copy").ok());
  struct stat st {};
  ::lstat((t / "copy/usr/bin/mount").c_str(), &st);
  CHECK(st.st_nlink == 2);  // a hard-link farm, not a copy
  REQUIRE(Harden(t / "copy", NodeDef()).ok());
  // The copy is hardened...
  CHECK(Mode(t / "copy/usr/bin/mount") == 0755);
  CHECK(Mode(t / "copy/boot/System.map-6.1.0") == 0600);
  CHECK(testing::ReadText(t / "copy/etc/fstab") != fstab);
  // ...and the source is not.
  CHECK(Mode(t / "root/usr/bin/mount") == 04755);
  CHECK(Mode(t / "root/boot/System.map-6.1.0") == 0644);
  CHECK(testing::ReadText(t / "root/etc/fstab") == fstab);
  CHECK(testing::ReadText(t / "root/usr/bin/mount") == "elf");
}
