// One writer per state folder: `apply`, `destroy` and `slipway-installer`
// hold an exclusive flock(2) on STATE/slipway.lock while they run, so two of
// them can never interleave journal records or mint secrets side by side.
// The holder writes its pid and command line into the file, so that the one
// refused can say who holds the folder. Read-only commands never take it.
#pragma once

#include <string>

#include "common/error.h"

namespace slipway {

/// The name of the lock file inside a state folder.
inline constexpr const char* kStateLockFile = "slipway.lock";

/// An exclusive lock on a state folder, released when destroyed (or when the
/// process dies: the kernel drops flock locks with the last descriptor).
class StateLock {
 public:
  /// Creates `dir` (0700) when missing and takes the lock without waiting.
  /// When another process holds it: a runtime error (exit 1) naming the
  /// folder, the holder's pid and command line, and what to do.
  /// `command_line` defaults to this process's /proc/self/cmdline.
  static Result<StateLock> Acquire(const std::string& dir, const std::string& command_line = "");

  StateLock(StateLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  StateLock& operator=(StateLock&&) = delete;
  StateLock(const StateLock&) = delete;
  ~StateLock();

  const std::string& path() const { return path_; }

 private:
  StateLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

/// This process's command line, arguments separated by spaces.
std::string OwnCommandLine();

}  // namespace slipway
