// QEMU for the boot tests: one machine under TCG (KVM does not boot guests
// on these machines), its serial console in a file, stopped as soon as the
// console shows what the test waits for, or when the guest powers off, or
// at the time limit.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace slipway::testing {

struct QemuMachine {
  bool uefi = false;  ///< q35 + OVMF; else pc + SeaBIOS
  int memory_mib = 1024;
  int cpus = 1;
  std::vector<std::string> args;  ///< drives, NICs, -cdrom ...
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
                                   "none",
                                   "-serial",
                                   "file:" + dir / "console.log"};
  if (m.uefi) {
    std::filesystem::copy_file("/usr/share/OVMF/OVMF_VARS_4M.fd", dir / "vars.fd");
    argv.insert(argv.end(),
                {"-machine", "q35", "-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
                 "-drive", "if=pflash,format=raw,file=" + dir / "vars.fd"});
  } else {
    argv.push_back("-machine");
    argv.push_back("pc");
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
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!marker.empty() && ReadText(dir / "console.log").find(marker) != std::string::npos) {
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
  run.console = ReadText(dir / "console.log");
  if (!marker.empty() && run.console.find(marker) != std::string::npos) run.marker_seen = true;
  std::string err = ReadText(dir / "qemu.err");
  if (!run.marker_seen && !err.empty()) run.console += "\n[qemu stderr]\n" + err;
  return run;
}

/// The last `n` characters of a console, for INFO().
inline std::string Tail(const std::string& s, size_t n = 3000) { return s.size() > n ? s.substr(s.size() - n) : s; }

}  // namespace slipway::testing
