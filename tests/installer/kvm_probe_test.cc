// The KVM probe (installer/detect/kvm_probe.h). The unit cases drive its
// QEMU seam with small scripts that behave as QEMU does in each outcome: a
// guest whose kernel prints, a guest that hangs, a QEMU that refuses KVM.
// The real QEMU with a real kernel passes through the same seam in the boot
// case at the end (tests/integration/kvm_probe_boot_test.cc).
#include "installer/detect/kvm_probe.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

std::string Script(const testing::TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir / name;
  testing::WriteText(path, "#!/bin/sh\n" + body + "\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

}  // namespace

TEST_CASE("the KVM probe answers TCG, naming the device, when /dev/kvm is missing") {
  KvmProbeOptions o;
  o.device = "/nonexistent/kvm";
  auto r = ProbeKvm(o);
  CHECK(r.accel == Accel::kTcg);
  CHECK(r.reason.find("/nonexistent/kvm does not exist") != std::string::npos);
  CHECK(r.seconds == 0);
}

TEST_CASE("the KVM probe answers KVM only when the probe guest's kernel prints, TCG on a hang or a refusal") {
  testing::TempDir t;
  testing::WriteText(t / "vmlinuz", "a kernel");
  KvmProbeOptions o;
  o.device = "/dev/null";  // opens; the QEMU stand-ins below decide
  o.kernels = {t / "missing", t / "vmlinuz"};
  o.timeout_s = 2;

  SECTION("the guest's kernel prints its banner: KVM") {
    // The stand-in checks that it was asked for KVM and the kernel found.
    o.qemu = Script(t, "qemu-ok",
                    "case \"$*\" in *'-accel kvm'*'-kernel " + t / "vmlinuz" +
                        "'*) ;; *) echo bad args: \"$*\"; exit 1 ;; esac\n"
                        "echo 'SeaBIOS'; echo '[    0.000000] Linux version 6.1.0-57-amd64'; exec sleep 30");
    auto r = ProbeKvm(o);
    CHECK(r.accel == Accel::kKvm);
    CHECK(r.kernel == t / "vmlinuz");
    CHECK(r.reason.find("booted its kernel under KVM") != std::string::npos);
    CHECK(r.seconds < 2);
  }
  SECTION("the guest hangs after the firmware (as KVM does on this machine kind): TCG after the limit, QEMU killed") {
    o.qemu = Script(t, "qemu-hang", "echo 'SeaBIOS (version 1.16.2)'; echo 'Booting from ROM...'; exec sleep 30");
    auto r = ProbeKvm(o);
    CHECK(r.accel == Accel::kTcg);
    CHECK(r.reason.find("printed nothing in 2 s") != std::string::npos);
    CHECK(r.seconds >= 2);
    CHECK(r.seconds < 10);
  }
  SECTION("QEMU refuses KVM: TCG with QEMU's own last line") {
    o.qemu = Script(t, "qemu-refuse",
                    "echo 'Could not access KVM kernel module: Permission denied' >&2\n"
                    "echo 'qemu-system-x86_64: failed to initialize kvm: Permission denied' >&2; "
                    "exit 1");
    auto r = ProbeKvm(o);
    CHECK(r.accel == Accel::kTcg);
    CHECK(r.reason ==
          "QEMU with KVM stopped before the probe guest ran: qemu-system-x86_64: failed to initialize kvm: "
          "Permission denied");
  }
  SECTION("no QEMU at all") {
    o.qemu = t / "no-such-qemu";
    auto r = ProbeKvm(o);
    CHECK(r.accel == Accel::kTcg);
    CHECK(r.reason.find("cannot start") != std::string::npos);
  }
  SECTION("no kernel to boot") {
    o.kernels = {t / "missing"};
    auto r = ProbeKvm(o);
    CHECK(r.accel == Accel::kTcg);
    CHECK(r.reason == "/dev/null opens, but no kernel was found to boot a probe guest with");
  }
}
