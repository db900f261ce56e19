// QEMU for the boot tests: one machine under TCG (KVM does not boot guests
// on these machines), its serial console in a file, stopped as soon as the
// console shows what the test waits for, or when the guest powers off, or
// at the time limit.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace slipway::testing {

struct QemuMachine {
  bool uefi = false;  ///< q35 + OVMF; else pc + SeaBIOS
  /// With uefi: OVMF with Secure Boot enforced and Microsoft's keys enrolled
  /// (OVMF_CODE_4M.secboot.fd, a copy of OVMF_VARS_4M.ms.fd), SMM on and the
  /// vars flash secure, as servers ship.
  bool secure_boot = false;
  /// A TPM 2.0 from swtpm (tpm-crb), its state in the run's folder.
  bool tpm = false;
  int memory_mib = 1024;
  int cpus = 1;
  std::vector<std::string> args;  ///< drives, NICs, -cdrom ...
  /// Typing on the serial console: called with the whole console so far on
  /// every poll; what it returns is sent. With it, the console is a socket
  /// (logged to the same file) instead of a plain file.
  std::function<std::string(const std::string& console)> respond;
  /// With a marker: BootQemu stops only once this also returns true
  /// (checked on every poll), e.g. when another guest has printed its part.
  std::function<bool()> also_until;
};

struct QemuRun {
  std::string console;
  double seconds = 0;  ///< from start to the marker, the power-off or the time limit
  bool marker_seen = false;
  bool powered_off = false;  ///< the guest stopped QEMU itself (exit 0)
  bool timed_out = false;
};

/// Boots `m` and waits until the console holds `marker` (then QEMU is
/// stopped), until QEMU exits by itself, or `timeout_s` seconds.
inline QemuRun BootQemu(const QemuMachine& m, const std::string& marker, int timeout_s) {
  TempDir dir;
  std::vector<std::string> argv = {"qemu-system-x86_64",
                                   "-accel",
                                   "tcg",
                                   "-m",
                                   std::to_string(m.memory_mib),
                                   "-smp",
                                   std::to_string(m.cpus),
                                   "-nographic",
                                   "-no-reboot",
                                   "-monitor",
                                   "none"};
  if (m.respond) {
    argv.insert(argv.end(),
                {"-chardev",
                 "socket,id=ser0,path=" + dir / "serial.sock" + ",server=on,wait=off,logfile=" + dir / "console.log",
                 "-serial", "chardev:ser0"});
  } else {
    argv.insert(argv.end(), {"-serial", "file:" + dir / "console.log"});
  }
  if (m.uefi && m.secure_boot) {
    std::filesystem::copy_file("/usr/share/OVMF/OVMF_VARS_4M.ms.fd", dir / "vars.fd");
    argv.insert(argv.end(),
                {"-machine", "q35,smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on", "-drive",
                 "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "-drive",
                 "if=pflash,format=raw,unit=1,file=" + dir / "vars.fd"});
  } else if (m.uefi) {
    std::filesystem::copy_file("/usr/share/OVMF/OVMF_VARS_4M.fd", dir / "vars.fd");
    argv.insert(argv.end(),
                {"-machine", "q35", "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                 "-drive", "if=pflash,format=raw,file=" + dir / "vars.fd"});
  } else {
    argv.push_back("-machine");
    argv.push_back("pc");
  }
  if (m.tpm) {
    // swtpm serves the TPM on a socket and exits when QEMU closes it.
    std::filesystem::create_directories(dir / "tpm");
    auto swtpm = Run("swtpm socket --tpm2 --daemon --terminate --tpmstate dir=" + dir / "tpm" +
                     " --ctrl type=unixio,path=" + dir / "tpm/swtpm.sock" + " --pid file=" + dir / "tpm/swtpm.pid" +
                     " --log file=" + dir / "tpm/swtpm.log");
    if (swtpm.exit_code != 0) {
      QemuRun failed;
      failed.console = "[swtpm did not start]\n" + swtpm.out + swtpm.err;
      return failed;
    }
    argv.insert(argv.end(), {"-chardev", "socket,id=chrtpm,path=" + dir / "tpm/swtpm.sock", "-tpmdev",
                             "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-crb,tpmdev=tpm0"});
  }
  argv.insert(argv.end(), m.args.begin(), m.args.end());
  QemuRun run;
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::freopen((dir / "qemu.err").c_str(), "w", stderr);
    ::freopen("/dev/null", "w", stdout);
    ::execvp(cargv[0], cargv.data());
    ::_exit(127);
  }
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  int status = 0;
  int serial = -1;  // the console socket, when responding
  std::string heard;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (m.respond && serial < 0) {
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::string path = dir / "serial.sock";
      std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
      int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        serial = fd;
      } else {
        ::close(fd);
      }
    }
    if (serial >= 0) {
      // What the guest wrote, from the socket: QEMU's logfile may repeat
      // bytes whose write it retried.
      char buf[4096];
      for (ssize_t n; (n = ::recv(serial, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
        heard.append(buf, static_cast<size_t>(n));
      std::string reply = m.respond(heard);
      if (!reply.empty()) (void)!::write(serial, reply.data(), reply.size());
    }
    if (!marker.empty() && (m.respond ? heard : ReadText(dir / "console.log")).find(marker) != std::string::npos &&
        (!m.also_until || m.also_until())) {
      run.marker_seen = true;
      run.seconds = elapsed();
      std::this_thread::sleep_for(std::chrono::seconds(1));  // the rest of the marker's line
      ::kill(pid, SIGTERM);
      ::waitpid(pid, &status, 0);
      break;
    }
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      run.seconds = elapsed();
      run.powered_off = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      break;
    }
    if (elapsed() > timeout_s) {
      run.timed_out = true;
      run.seconds = elapsed();
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
  }
  if (serial >= 0) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(serial, buf, sizeof buf, MSG_DONTWAIT)) > 0;) heard.append(buf, static_cast<size_t>(n));
    ::close(serial);
  }
  if (m.tpm) {
    // --terminate ends swtpm when QEMU goes; this is for a QEMU that never
    // connected.
    int pid = std::atoi(ReadText(dir / "tpm/swtpm.pid").c_str());
    if (pid > 0 && ReadText("/proc/" + std::to_string(pid) + "/comm").rfind("swtpm", 0) == 0) ::kill(pid, SIGTERM);
  }
  run.console = m.respond ? heard : ReadText(dir / "console.log");
  if (!marker.empty() && run.console.find(marker) != std::string::npos) run.marker_seen = true;
  std::string err = ReadText(dir / "qemu.err");
  if (!run.marker_seen && !err.empty()) run.console += "\n[qemu stderr]\n" + err;
  return run;
}

/// The last `n` characters of a console, for INFO().
/// The console without the kernel's and systemd's own log lines
/// ("[   25.555598] systemd[1]: ..."), which the serial console interleaves
/// with the installer's output, even in the middle of one of its lines.
inline std::string WithoutKernelLog(const std::string& console) {
  static const std::regex kLine(R"(\[ *[0-9]+\.[0-9]+\] [^\r\n]*\r?\n)");
  return std::regex_replace(console, kLine, "");
}

inline std::string Tail(const std::string& s, size_t n = 3000) { return s.size() > n ? s.substr(s.size() - n) : s; }

}  // namespace slipway::testing
