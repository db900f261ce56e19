// Running external tools (mkfs.ext4, mkfs.vfat, mtools, qemu-img, ...):
// argv only (no shell), output captured, and a failure that names the command
// and shows the tail of what it printed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway {

struct RunOptions {
  std::string create_dir;  ///< created (with parents) before running
  std::string cwd;
  std::map<std::string, std::string> env;  ///< added to the environment
  bool allow_failure = false;              ///< return the result even when exit != 0
  /// Written to the command's stdin (then closed) when set; otherwise stdin
  /// is inherited.
  std::optional<std::string> input;
};

struct RunOutput {
  int exit_code = 0;
  std::string out;
  std::string err;
};

/// Runs argv[0] (searched in PATH). Errors: the command could not start, or
/// it exited non-zero (unless allow_failure), with its stderr tail.
Result<RunOutput> RunCommand(const std::vector<std::string>& argv, const RunOptions& options);

}  // namespace slipway
