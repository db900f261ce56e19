// Node images with a Kubernetes bundle, built for real (small tree, real
// GPT, real ext4) and read back with debugfs; the tampered bundle that stops
// a build; and node-setup's offline image import, run as a shell script in a
// private mount namespace. The Kubernetes binaries themselves are stand-ins:
// Debian 12 packages no kubeadm or kubelet and nothing is downloaded here.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "builder/agent.h"
#include "builder/image_build.h"
#include "common/hash.h"
#include "common/strings.h"
#include "test_bundle.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::builder;
namespace fs = std::filesystem;

namespace {

// The small tree of image_test.cc: a fake kernel, enough for the layout.
void SmallTree(const testing::TempDir& t) {
  testing::WriteText(t / "tree/etc/hostname", "unset\n");
  testing::WriteText(t / "tree/boot/vmlinuz-6.1.0-test", std::string(300000, 'K'));
  testing::WriteText(t / "tree/boot/initrd.img-6.1.0-test", std::string(200000, 'I'));
  testing::WriteText(t / "node.toml",
                     "name = \"small\"\nrole = \"linux-node\"\n[rootfs]\nsource = \"directory\"\npath = \"tree\"\n"
                     "[disk]\nsize_gib = 1\nesp_mib = 64\nformats = [\"raw\"]\n[hardening]\nsteps = [\"sysctl\"]\n");
}

ImageDefinition SmallDef(const testing::TempDir& t) {
  ImageDefinition d;
  d.name = "small";
  d.role = ImageRole::kLinuxNode;
  d.rootfs.source = "directory";
  d.rootfs.path = "tree";
  d.disk.size_gib = 1;
  d.disk.esp_mib = 64;
  d.disk.formats = {"raw"};
  d.hardening.steps = {"sysctl"};
  d.file = t / "node.toml";
  return d;
}

// The root file system of a built raw image, read in place: e2fsprogs
// open "FILE?offset=BYTES" (the ESP is 1 MiB to 65 MiB; the root follows).
std::string RootFs(const std::string& raw) { return raw + "?offset=" + std::to_string(65ull << 20); }

std::string Debugfs(const std::string& img, const std::string& request) {
  return testing::Run("debugfs -R '" + request + "' '" + img + "' 2>/dev/null").out;
}

}  // namespace

TEST_CASE("a node image built with a bundle carries its files, modes and units, read back with debugfs") {
  testing::TempDir t;
  SmallTree(t);
  testing::WriteTestBundle(t / "bundle");
  BuildOptions o;
  o.out_dir = t / "out";
  o.kubernetes_bundle = t / "bundle";
  auto m = BuildImage(t / "node.toml", SmallDef(t), o);
  INFO((m.ok() ? std::string() : m.error().ToString()));
  REQUIRE(m.ok());
  std::string img = RootFs(t / "out/small.raw");
  auto fsck = testing::Run("e2fsck -fn '" + img + "'");
  INFO(fsck.out << fsck.err);
  CHECK(fsck.exit_code == 0);
  for (const char* bin : {"/usr/local/bin/kubeadm", "/usr/local/bin/kubelet", "/usr/local/bin/kubectl",
                          "/usr/local/bin/crictl", "/opt/cni/bin/bridge", "/opt/cni/bin/loopback"}) {
    INFO(bin);
    std::string st = Debugfs(img, std::string("stat ") + bin);
    CHECK(st.find("Type: regular    Mode:  0755") != std::string::npos);
    CHECK(st.find("User:     0   Group:     0") != std::string::npos);
  }
  CHECK(Debugfs(img, "cat /usr/local/bin/kubelet") == "#!/bin/sh\necho 'kubelet stand-in'\n");
  CHECK(Debugfs(img, "stat /var/lib/slipway/kubernetes/images/pause.tar").find("Mode:  0644") != std::string::npos);
  CHECK(Debugfs(img, "cat /var/lib/slipway/kubernetes/images.sha256")
            .find(Sha256Hex("stand-in image archive of registry.k8s.io/pause:3.9\n") + "  pause.tar") !=
        std::string::npos);
  CHECK(Debugfs(img, "cat /var/lib/slipway/kubernetes/version") == "1.28.5\n");
  // kubelet: the unit, kubeadm's drop-in, and enabled.
  CHECK(Debugfs(img, "cat /etc/systemd/system/kubelet.service").find("ExecStart=/usr/local/bin/kubelet") !=
        std::string::npos);
  CHECK(Debugfs(img, "cat /etc/systemd/system/kubelet.service.d/10-kubeadm.conf").find("KUBELET_KUBEADM_ARGS") !=
        std::string::npos);
  CHECK(Debugfs(img, "stat /etc/systemd/system/multi-user.target.wants/kubelet.service")
            .find("Fast link dest: \"/etc/systemd/system/kubelet.service\"") != std::string::npos);
  CHECK(Debugfs(img, "cat /etc/containerd/config.toml").find("sandbox_image = 'registry.k8s.io/pause:3.9'") !=
        std::string::npos);
  CHECK(Debugfs(img, "cat /usr/lib/slipway/node-setup").find("ctr -n k8s.io images import") != std::string::npos);
  // No Windows file in a Linux image.
  CHECK(Debugfs(img, "ls /usr/local/bin").find("kube-proxy") == std::string::npos);
  // The manifest records the bundle.
  const auto& k = (*m)["kubernetes"];
  CHECK(k["version"] == "1.28.5");
  CHECK(k["cni"] == "flannel");
  CHECK(k["files"].size() == 14);
  CHECK(k["files"][0]["path"] == "/usr/local/bin/kubeadm");
}

TEST_CASE("a tampered bundle stops the image build before anything is written, exit 2") {
  testing::TempDir t;
  SmallTree(t);
  testing::WriteTestBundle(t / "bundle");
  testing::WriteText(t / "bundle/images/coredns.tar", "a different archive\n");
  auto r = testing::Run(testing::Slipway() + " build image " + t / "node.toml" + " --out " + t / "out" +
                        " --kubernetes " + t / "bundle");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("images/coredns.tar: expected sha256 " +
                   Sha256Hex("stand-in image archive of registry.k8s.io/coredns/coredns:v1.10.1\n") + ", actual " +
                   Sha256Hex("a different archive\n")) != std::string::npos);
  CHECK(r.err.find("nothing was written") != std::string::npos);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(t / "out")) left.push_back(e.path().filename().string());
  CHECK(left.empty());
}

TEST_CASE("without a bundle the image build and its manifest say so in one line") {
  testing::TempDir t;
  SmallTree(t);
  // Run from the definition's folder, named without one: the rootfs path is
  // relative to it (it once resolved against /).
  auto r = testing::Run("cd " + t.path() + " && " + testing::Slipway() + " build image node.toml --out out");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\nno Kubernetes bundle: nodes run etcd and containerd only\n") != std::string::npos);
  auto m = nlohmann::json::parse(testing::ReadText(t / "out/small.manifest.json"));
  CHECK(m["kubernetes"] ==
        nlohmann::json{{"bundle", false}, {"note", "no Kubernetes bundle: nodes run etcd and containerd only"}});
}

TEST_CASE("node-setup imports the bundle's OCI archives into a real containerd, with no network") {
  // node-setup runs in private mount and network namespaces (no network at
  // all: a pull could not succeed), with /var/lib a scratch folder holding
  // the bundle's placement, /run a scratch folder where a real containerd
  // (Debian's, root and state in the scratch folder) serves its usual
  // socket, and /dev/console a log file. The archives are real OCI archives
  // that the test builds.
  REQUIRE(testing::Run("command -v containerd && command -v ctr").exit_code == 0);  // .ci/packages
  testing::TempDir t;
  std::string k8s = t / "varlib/slipway/kubernetes";
  std::string sums;
  std::vector<std::string> refs;
  for (const auto& f : testing::TestBundleFiles("1.28.5", true)) {
    if (f.kind != "image" || f.extra.find("os =") != std::string::npos) continue;
    std::string name = fs::path(f.path).filename().string();
    testing::WriteText(k8s + "/images/" + name, f.body);
    sums += Sha256Hex(f.body) + "  " + name + "\n";
    refs.push_back(f.extra.substr(9, f.extra.find('"', 9) - 9));  // image = "REF"
  }
  std::sort(refs.begin(), refs.end());
  testing::WriteText(k8s + "/images.sha256", sums);
  testing::WriteText(k8s + "/version", "1.28.5\n");
  testing::WriteText(t / "node-setup", NodeSetupScript(ImageRole::kLinuxNode));
  testing::WriteText(t / "containerd.toml", "version = 2\nroot = \"" + t / "ctr-root" + "\"\nstate = \"" +
                                                t / "ctr-state" +
                                                "\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
                                                "[grpc]\n  address = \"/run/containerd/containerd.sock\"\n");
  fs::create_directories(t / "run");
  // The console is a FIFO read into console.log: node-setup writes each
  // line with '>/dev/console', which would truncate a plain file.
  REQUIRE(::mkfifo((t / "console").c_str(), 0600) == 0);
  testing::WriteText(t / "ns.sh", "set -u\nmount --bind " + t / "varlib" + " /var/lib && mount --bind " +
                                      t / "console" + " /dev/console && mount --bind " + t / "run" +
                                      " /run || exit 90\n"
                                      "exec 3<>/dev/console\ncat /dev/console >" +
                                      t / "console.log" +
                                      " 3>&- &\ncat_pid=$!\n"
                                      "mkdir -p /run/containerd\n"
                                      "containerd --config " +
                                      t / "containerd.toml" + " >" + t / "containerd.log" +
                                      " 2>&1 3>&- &\npid=$!\n"
                                      "for i in $(seq 100); do [ -S /run/containerd/containerd.sock ] && break; "
                                      "sleep 0.1; done\n"
                                      "sh " +
                                      t / "node-setup" +
                                      " worker\nrc=$?\n"
                                      "ctr -n k8s.io images ls -q >" +
                                      t / "images" +
                                      "\n"
                                      "kill $pid; wait $pid\nexec 3>&-\nwait $cat_pid\nexit $rc\n");
  auto run = [&] {
    fs::remove(t / "console.log");
    fs::remove_all(t / "ctr-root");
    return testing::Run("timeout 60 unshare -m -n sh " + t / "ns.sh");
  };
  auto started = std::chrono::steady_clock::now();
  auto r = run();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string console = testing::ReadText(t / "console.log");
  INFO(r.out << r.err << console << testing::ReadText(t / "containerd.log"));
  REQUIRE(r.exit_code == 0);
  CHECK(console.find("slipway-role-setup: kubernetes images: imported 7 of 7 from /var/lib/slipway/kubernetes/images "
                     "(offline, no registry)") != std::string::npos);
  CHECK(console.find("slipway-role-setup: Kubernetes 1.28.5 from the bundle") != std::string::npos);
  std::vector<std::string> listed = Split(testing::ReadText(t / "images"), '\n');
  listed.erase(std::remove(listed.begin(), listed.end(), ""), listed.end());
  std::sort(listed.begin(), listed.end());
  CHECK(listed == refs);
  WARN("node-setup with a real containerd: 7 images imported in " << seconds << " s");

  // A changed archive: nothing is imported.
  testing::WriteText(k8s + "/images/pause.tar", "swapped\n");
  r = run();
  console = testing::ReadText(t / "console.log");
  CHECK(console.find("kubernetes images: checksum mismatch in /var/lib/slipway/kubernetes/images; none imported") !=
        std::string::npos);
  CHECK(testing::ReadText(t / "images").empty());

  // No bundle: the one line, and no import.
  fs::remove_all(k8s);
  r = run();
  console = testing::ReadText(t / "console.log");
  CHECK(console.find("slipway-role-setup: no Kubernetes bundle: nodes run etcd and containerd only") !=
        std::string::npos);
  CHECK(testing::ReadText(t / "images").empty());
}
