// A private libvirtd with the QEMU driver for the real-VM tests (label
// boot): .ci/qemu-libvirtd in its own mount and network namespaces, QEMU as
// libvirt-qemu, /dev/kvm hidden (guests under TCG). The capability cache
// lives in the build tree, so only the first daemon of a build probes QEMU
// (about 45 s). Exec() runs a command in the daemon's network namespace:
// the host side of its NAT networks, from where node IPs and VIPs answer.
#pragma once

#include <memory>
#include <string>

#include "installer/apply/hypervisor.h"
#include "test_util.h"

namespace slipway::testing {

class QemuLibvirtd {
 public:
  QemuLibvirtd() {
    auto r = Run("SLIPWAY_LIBVIRT_CACHE=" + std::string(SLIPWAY_BUILD_DIR) + "/libvirt-qemu-cache " + Script() +
                 " start " + dir_.path());
    start_error_ = r.err;
    if (r.exit_code != 0) return;
    uri_ = r.out.substr(0, r.out.find('\n'));
    auto hv = installer::Hypervisor::Connect(uri_);
    if (hv.ok()) hv_ = std::move(*hv);
  }
  ~QemuLibvirtd() {
    hv_.reset();
    Run(Script() + " stop " + dir_.path());
  }
  QemuLibvirtd(const QemuLibvirtd&) = delete;
  QemuLibvirtd& operator=(const QemuLibvirtd&) = delete;

  bool ok() const { return hv_ != nullptr; }
  /// Why it did not start, with the daemon's log.
  /// The daemon's private tree: lib/ is its /var/lib/libvirt.
  std::string root() const { return dir_.path(); }
  std::string log() const { return start_error_ + ReadText(dir_ / "log/libvirtd.log"); }
  const std::string& uri() const { return uri_; }
  installer::Hypervisor& hv() { return *hv_; }
  /// Runs a bash script in the daemon's network namespace.
  RunResult Exec(const std::string& script) const {
    TempDir tmp;
    WriteText(tmp / "script", script);
    return Run(Script() + " exec " + dir_.path() + " bash " + tmp / "script");
  }
  std::string Virsh(const std::string& args) const { return Run("virsh -c '" + uri_ + "' " + args).out; }

 private:
  static std::string Script() { return SourceDir() + "/.ci/qemu-libvirtd"; }
  TempDir dir_;
  std::string uri_;
  std::string start_error_;
  std::unique_ptr<installer::Hypervisor> hv_;
};

}  // namespace slipway::testing
