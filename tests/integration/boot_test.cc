// Boot tests (label boot): the tiny node image (busybox + Debian's kernel,
// built by `slipway build image` like any node image) boots under SeaBIOS
// and under OVMF with a NoCloud seed written by the executor's seed writer,
// and its first-boot agent prints the marker with the seed's hostname.
// Label slow since 2026-11-30, for CI's 45 minutes: the real-VM test boots
// the full images with the same agent under SeaBIOS, OVMF and OVMF with
// Secure Boot in CI.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "installer/apply/seed_iso.h"
#include "qemu.h"
#include "test_util.h"
#include "tiny_image.h"

using namespace slipway;
namespace fs = std::filesystem;

namespace {

using testing::TinyImage;

// Boots the tiny image with a seed; the tiny init powers off after the agent.
std::string Boot(bool uefi, const std::string& hostname, double* seconds) {
  testing::TempDir dir;
  std::string seed = dir / "seed.iso";
  REQUIRE(installer::WriteSeedIso(seed, "cidata",
                                  {{"meta-data", "instance-id: boot-test\nlocal-hostname: " + hostname + "\n"},
                                   {"user-data", "#cloud-config\nhostname: " + hostname + "\n"},
                                   {"network-config", "version: 2\n"},
                                   {"slipway/files/etc/slipway/role.conf", "role = worker\n"},
                                   {"slipway/files/etc/kubernetes/kubeadm.yaml", "kind: JoinConfiguration\n"},
                                   {"slipway/modes", "0600 /etc/kubernetes/kubeadm.yaml\n"}})
              .ok());
  testing::QemuMachine m;
  m.uefi = uefi;
  m.memory_mib = 512;
  m.args = {"-snapshot",
            "-net",
            "none",
            "-drive",
            "file=" + TinyImage() + ",if=virtio,format=qcow2",
            "-drive",
            "file=" + seed + ",if=virtio,format=raw,readonly=on"};
  auto run = testing::BootQemu(m, "", 240);
  *seconds = run.seconds;
  CHECK(run.powered_off);  // the tiny init powers the VM off after the agent
  return run.console;
}

}  // namespace

TEST_CASE("the node image boots under BIOS (SeaBIOS) to the first-boot marker", "[slow]") {
  double s = 0;
  std::string console = Boot(false, "bios-node-1", &s);
  INFO(console.substr(console.size() > 3000 ? console.size() - 3000 : 0));
  CHECK(console.find("slipway-firstboot: wrote 2 file(s)") != std::string::npos);
  CHECK(console.find("slipway-node-ready bios-node-1") != std::string::npos);
  WARN("BIOS boot to the marker (and power-off): " << s << " s");
}

TEST_CASE("the node image boots under UEFI (OVMF) to the first-boot marker", "[slow]") {
  double s = 0;
  std::string console = Boot(true, "uefi-node-1", &s);
  INFO(console.substr(console.size() > 3000 ? console.size() - 3000 : 0));
  CHECK(console.find("slipway-node-ready uefi-node-1") != std::string::npos);
  WARN("UEFI boot to the marker (and power-off): " << s << " s");
}
