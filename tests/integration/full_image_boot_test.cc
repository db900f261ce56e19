// Boot tests (label boot) of the real images: images/linux-node.toml and
// images/loadbalancer.toml built by `slipway build image` from a Debian 12
// mmdebstrap rootfs, booted under SeaBIOS and OVMF with the NoCloud seeds
// that `slipway apply` writes for a planned cluster (tests/fixtures/boot/
// lab-ha.toml: two load balancers, so keepalived has a VRRP pair). Each boot
// waits for the ready marker, which node-setup prints after its checks.
//
// Label slow (not in CI): the real-VM test (real_vms_test.cc) boots both
// images as six planned VMs through libvirt's QEMU driver with the same
// checks; these single boots with QEMU alone help to debug an image.
// Run them with: cd build && ctest -L slow
//
// The builds are cached in the build tree (full_images.h).
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "full_images.h"
#include "qemu.h"
#include "test_util.h"

using namespace slipway;
namespace fs = std::filesystem;

namespace {

using testing::BuildDir;
using testing::BuildFull;
using testing::FullImage;

struct Planned {
  nlohmann::json plan;
  std::string seeds;  ///< folder of <vm>-seed.iso, written by slipway apply
};

// The lab host as captured plus the lab-ha cluster, planned and applied to
// libvirt's in-process test driver: the seeds are the executor's own.
const Planned& Plan() {
  static testing::TempDir dir;
  static Planned p = [] {
    std::string lab = testing::Fixtures() + "/hosts/lab-csv";
    auto r = testing::Run(testing::Slipway() + " plan --sysroot " + lab + " --fs-usage " + lab +
                          "/statvfs.json --cluster " + testing::Fixtures() + "/boot/lab-ha.toml --out " +
                          dir / "plan.json" + " && " + testing::Slipway() + " apply " + dir / "plan.json" +
                          " --state " + dir / "state" + " --storage-root " + dir / "root");
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return Planned{nlohmann::json::parse(testing::ReadText(dir / "plan.json")), dir / "state/seeds"};
  }();
  return p;
}

const nlohmann::json& Vm(const Planned& p, const std::string& name) {
  for (const auto& vm : p.plan["vms"]) {
    if (vm["name"] == name) return vm;
  }
  FAIL("no VM " << name << " in the plan");
  static nlohmann::json none;
  return none;
}

// Boots image NAME as VM `vm` of the plan; returns the run.
testing::QemuRun BootAs(const std::string& image, const std::string& vm_name, bool uefi, bool secure = false) {
  FullImage(image);
  const Planned& p = Plan();
  const nlohmann::json& vm = Vm(p, vm_name);
  testing::QemuMachine m;
  m.uefi = uefi;
  m.secure_boot = m.tpm = secure;
  m.memory_mib = 1024;
  m.args = {"-snapshot",
            "-netdev",
            "user,id=n0",
            "-device",
            "virtio-net-pci,netdev=n0,mac=" + vm["nics"][0]["mac"].get<std::string>(),
            "-drive",
            "file=" + BuildDir() + "/full-images/" + image + "/" + image + ".qcow2,if=virtio,format=qcow2",
            "-drive",
            "file=" + p.seeds + "/" + vm_name + "-seed.iso,if=virtio,format=raw,readonly=on"};
  auto run = testing::BootQemu(m, "slipway-node-ready " + vm_name, 400);
  WARN(image << " as " << vm_name << " under "
             << (secure ? "UEFI (OVMF, Secure Boot enforced, vTPM)"
                 : uefi ? "UEFI (OVMF)"
                        : "BIOS (SeaBIOS)")
             << ": ready marker after " << run.seconds << " s");
  return run;
}

// What every full image shows: the seed applied on the NIC the plan gave
// the VM, the firewall loaded, and no failed unit.
void CheckCommon(const testing::QemuRun& run, const std::string& vm_name) {
  const nlohmann::json& vm = Vm(Plan(), vm_name);
  INFO(testing::Tail(run.console, 6000));
  REQUIRE(run.marker_seen);
  std::string ip = vm["nics"][0]["ip"].get<std::string>() + "/" + std::to_string(vm["nics"][0]["prefix"].get<int>());
  CHECK(run.console.find("slipway-firstboot: eth0 " + ip) != std::string::npos);
  CHECK(run.console.find("slipway-firstboot: wrote " + std::to_string(vm["files"].size()) + " file(s)") !=
        std::string::npos);
  CHECK(run.console.find("slipway-role-setup: nftables: inbound policy drop") != std::string::npos);
  CHECK(run.console.find("FAILED") == std::string::npos);  // systemd's mark of a failed unit
}

}  // namespace

TEST_CASE("the full Debian node image boots under BIOS as a planned worker") {
  auto run = BootAs("linux-node", "labha-linux-1", false);
  CheckCommon(run, "labha-linux-1");
  CHECK(run.console.find("slipway-role-setup: containerd active") != std::string::npos);
  CHECK(run.console.find("kubeadm is not installed") != std::string::npos);
}

TEST_CASE("the full Debian node image boots under UEFI as a planned control plane") {
  auto run = BootAs("linux-node", "labha-cp-1", true);
  CheckCommon(run, "labha-cp-1");
  CHECK(run.console.find("slipway-role-setup: containerd active") != std::string::npos);
  CHECK(run.console.find("control-plane not joined") != std::string::npos);
}

TEST_CASE("the full load-balancer image boots under BIOS and runs the planned HAProxy and keepalived") {
  auto run = BootAs("loadbalancer", "labha-lb-1", false);
  CheckCommon(run, "labha-lb-1");
  CHECK(run.console.find("slipway-role-setup: haproxy active") != std::string::npos);
  CHECK(run.console.find("slipway-role-setup: keepalived active") != std::string::npos);
}

TEST_CASE("the full load-balancer image boots under UEFI and runs the planned HAProxy and keepalived") {
  auto run = BootAs("loadbalancer", "labha-lb-2", true);
  CheckCommon(run, "labha-lb-2");
  CHECK(run.console.find("slipway-role-setup: haproxy active") != std::string::npos);
  CHECK(run.console.find("slipway-role-setup: keepalived active") != std::string::npos);
}

// The load balancer's boot chain is the node image's (shim, Debian's signed
// GRUB and kernel), but its own image: boot it as `uefi-secure` VMs are
// booted, with Secure Boot enforced (Microsoft's keys) and a TPM 2.0.
TEST_CASE("the full load-balancer image boots under enforced Secure Boot with a vTPM and runs HAProxy") {
  auto run = BootAs("loadbalancer", "labha-lb-1", true, true);
  CheckCommon(run, "labha-lb-1");
  CHECK(run.console.find("slipway-role-setup: SecureBoot enabled; TPM 2 at /dev/tpmrm0") != std::string::npos);
  CHECK(run.console.find("slipway-role-setup: haproxy active") != std::string::npos);
  CHECK(run.console.find("slipway-role-setup: keepalived active") != std::string::npos);
}
