// Does KVM run guests on this host? /dev/kvm existing is not enough: on
// some machines (nested setups, broken firmware settings) the device opens
// and QEMU starts, but the guest hangs in its first instructions. So the
// probe boots a real tiny guest with KVM: QEMU with -accel kvm and a Linux
// kernel (the boot medium's or the running system's), no disk, no initrd.
// If the kernel's first line reaches the serial port within the time limit,
// KVM runs guests; otherwise the answer is TCG, with the reason.
#pragma once

#include <string>
#include <vector>

namespace slipway::installer {

enum class Accel { kKvm, kTcg };

struct KvmProbeOptions {
  std::string device = "/dev/kvm";
  /// Kernels to boot, the first that exists is used. Default: the live
  /// medium's, then the running system's.
  std::vector<std::string> kernels;
  std::string qemu = "qemu-system-x86_64";
  int timeout_s = 20;  ///< a kernel under KVM prints its banner in about a second
};

struct KvmProbeResult {
  Accel accel = Accel::kTcg;
  std::string reason;  ///< one line: why this accelerator
  double seconds = 0;  ///< how long the probe guest ran (0: no guest started)
  std::string kernel;  ///< the kernel the probe booted, if any
};

/// The default kernel list: /run/slipway/medium/boot/vmlinuz (the installer
/// ISO), /boot/vmlinuz-<uname -r>, /boot/vmlinuz, /vmlinuz.
std::vector<std::string> DefaultProbeKernels();

/// Probes KVM as above. Never throws and never hangs past timeout_s (the
/// guest is killed).
KvmProbeResult ProbeKvm(const KvmProbeOptions& options);

const char* AccelName(Accel a);

}  // namespace slipway::installer
