// The KVM probe: a real tiny guest under QEMU with -accel kvm.
#include "installer/detect/kvm_probe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace slipway::installer {

namespace {

// The kernel's first console line. It is printed once the serial console
// registers, a fraction of a second into a KVM boot.
constexpr const char* kBanner = "Linux version";

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

}  // namespace

const char* AccelName(Accel a) { return a == Accel::kKvm ? "kvm" : "tcg"; }

std::vector<std::string> DefaultProbeKernels() {
  std::vector<std::string> k = {"/run/slipway/medium/boot/vmlinuz"};
  struct utsname u {};
  if (::uname(&u) == 0) k.push_back(std::string("/boot/vmlinuz-") + u.release);
  k.push_back("/boot/vmlinuz");
  k.push_back("/vmlinuz");
  return k;
}

KvmProbeResult ProbeKvm(const KvmProbeOptions& o) {
  KvmProbeResult r;
  int fd = ::open(o.device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    r.reason = e == ENOENT ? o.device +
                                 " does not exist (no KVM module loaded, or virtualization is off in the "
                                 "firmware settings)"
                           : "cannot open " + o.device + ": " + std::strerror(e);
    return r;
  }
  ::close(fd);
  std::error_code ec;
  for (const std::string& k : o.kernels.empty() ? DefaultProbeKernels() : o.kernels) {
    if (std::filesystem::is_regular_file(k, ec)) {
      r.kernel = k;
      break;
    }
  }
  if (r.kernel.empty()) {
    r.reason = o.device + " opens, but no kernel was found to boot a probe guest with";
    return r;
  }

  // QEMU's serial port goes to a pipe that this process reads until the
  // banner, the deadline or QEMU's exit.
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    r.reason = std::string("probe: pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> args = {o.qemu,        "-accel",   "kvm",    "-m",         "256",
                                   "-nodefaults", "-display", "none",   "-no-reboot", "-serial",
                                   "stdio",       "-kernel",  r.kernel, "-append",    "console=ttyS0 panic=-1"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  auto start = std::chrono::steady_clock::now();
  int rc = ::posix_spawnp(&pid, o.qemu.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    r.reason = "cannot start " + o.qemu + " for the KVM probe: " + std::strerror(rc);
    return r;
  }
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::string out;
  bool banner = false, exited = false;
  while (!banner && elapsed() < o.timeout_s) {
    pollfd p{pipefd[0], POLLIN, 0};
    int ms = static_cast<int>((o.timeout_s - elapsed()) * 1000) + 1;
    if (::poll(&p, 1, ms) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n <= 0) {
      exited = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) out.erase(0, out.size() - 4096);
    banner = out.find(kBanner) != std::string::npos;
  }
  r.seconds = elapsed();
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(pipefd[0]);
  if (banner) {
    r.accel = Accel::kKvm;
    r.reason = "a probe guest booted its kernel under KVM in " + Seconds(r.seconds);
    return r;
  }
  if (exited) {
    // QEMU's own words: the last line it printed (e.g. "failed to initialize kvm").
    std::string tail = out;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
    size_t nl = tail.find_last_of('\n');
    if (nl != std::string::npos) tail = tail.substr(nl + 1);
    for (char& c : tail) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    r.reason = "QEMU with KVM stopped before the probe guest ran" + (tail.empty() ? "" : ": " + tail.substr(0, 200));
    return r;
  }
  r.reason = o.device + " opens, but a probe guest under KVM printed nothing in " + std::to_string(o.timeout_s) +
             " s (it hangs; nested or broken virtualization)";
  return r;
}

}  // namespace slipway::installer
