// The state-folder lock: flock(LOCK_EX | LOCK_NB) on STATE/slipway.lock.
#include "common/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "common/strings.h"

namespace slipway {

std::string OwnCommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw(std::istreambuf_iterator<char>(in), {});
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw) {
    if (c == '\0') c = ' ';
  }
  return raw;
}

namespace {

// What the holder wrote: "pid N\ncommand LINE\n"; "" parts when unreadable.
std::string DescribeHolder(int fd) {
  char buf[4096];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "another process (it has not written its pid yet)";
  std::string text(buf, static_cast<size_t>(n));
  std::string pid, command;
  for (const std::string& line : Split(text, '\n')) {
    if (StartsWith(line, "pid ")) pid = line.substr(4);
    if (StartsWith(line, "command ")) command = line.substr(8);
  }
  if (pid.empty()) return "another process";
  return "pid " + pid + (command.empty() ? "" : " (" + SanitizeForDisplay(command) + ")");
}

}  // namespace

Result<StateLock> StateLock::Acquire(const std::string& dir, const std::string& command_line) {
  // The state folder holds secrets: a new one is 0700 from the start.
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Error::Errno("cannot create state folder", dir, errno);
  std::string path = dir + "/" + kStateLockFile;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error::Errno("cannot open lock file", path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e != EWOULDBLOCK) {
      ::close(fd);
      return Error::Errno("cannot lock", path, e);
    }
    std::string holder = DescribeHolder(fd);
    ::close(fd);
    return Error::Runtime("state folder " + dir + " is in use by " + holder +
                          "; only one apply, destroy or slipway-installer may write it at a time. Wait for it to "
                          "finish (or stop it), then run this again");
  }
  std::string info = "pid " + std::to_string(::getpid()) + "\ncommand " +
                     (command_line.empty() ? OwnCommandLine() : command_line) + "\n";
  // Best effort: the lock is what excludes; the text only names the holder.
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] ssize_t w = ::pwrite(fd, info.data(), info.size(), 0);
  }
  return StateLock(fd, path);
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
}

}  // namespace slipway
