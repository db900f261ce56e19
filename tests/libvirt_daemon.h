// A real libvirtd started by a test, listening on a private socket. It serves
// libvirt's test driver over the real RPC protocol, so libvirt's state lives
// in the daemon and outlives the client processes the tests SIGKILL. A
// "keeper" connection holds the daemon's test-driver instance open (it is
// freed when its last connection closes).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "installer/apply/hypervisor.h"
#include "test_util.h"

namespace slipway::testing {

class LibvirtDaemon {
 public:
  LibvirtDaemon() {
    std::string conf = dir_ / "libvirtd.conf";
    WriteText(conf, "unix_sock_dir = \"" + dir_ / "run" + "\"\n" +
                        "auth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n" + "unix_sock_rw_perms = \"0700\"\n");
    std::filesystem::create_directories(dir_ / "run");
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string log = "3:file:" + dir_ / "libvirtd.log";
      ::setenv("LIBVIRT_LOG_OUTPUTS", log.c_str(), 1);
      ::execl("/usr/sbin/libvirtd", "libvirtd", "-f", conf.c_str(), "-p", (dir_ / "libvirtd.pid").c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // The first start may probe QEMU's capabilities (about 45 s when QEMU is installed).
    std::string sock = dir_ / "run/libvirt-sock";
    for (int i = 0; i < 1200 && !std::filesystem::exists(sock); ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it gave up: see log()
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    uri_ = "test+unix:///default?socket=" + sock;
    auto hv = installer::Hypervisor::Connect(uri_);
    if (hv.ok()) keeper_ = std::move(*hv);
  }
  ~LibvirtDaemon() {
    keeper_.reset();
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  bool ok() const { return keeper_ != nullptr; }
  std::string log() const { return ReadText(dir_ / "libvirtd.log"); }
  const std::string& uri() const { return uri_; }
  installer::Hypervisor& hv() { return *keeper_; }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::string uri_;
  std::unique_ptr<installer::Hypervisor> keeper_;
};

}  // namespace slipway::testing
