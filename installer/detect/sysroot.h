// The Sysroot seam: every read of /sys, /proc, /dev and efivars goes through
// a path prefix, so detection runs on this machine (prefix "/") and on
// captured fixture trees alike. Symlinks are resolved inside the prefix.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace slipway::installer {

class Sysroot {
 public:
  /// `root` is a folder; "/" means the running system.
  explicit Sysroot(std::string root);

  const std::string& root() const { return root_; }
  /// The host path of absolute path `abs` inside the sysroot.
  std::string Path(std::string_view abs) const;

  /// Whole file contents. Errors name the in-sysroot path and the OS reason.
  Result<std::string> Read(std::string_view abs) const;
  /// First line, trimmed of whitespace.
  Result<std::string> ReadLine(std::string_view abs) const;
  /// Raw bytes of a (small) binary file.
  Result<std::string> ReadBinary(std::string_view abs) const;
  /// Target of a symlink, as stored.
  std::optional<std::string> ReadLink(std::string_view abs) const;
  /// `abs` with every symlink resolved inside the sysroot, as an absolute
  /// in-sysroot path; nothing when a component is missing.
  std::optional<std::string> Resolve(std::string_view abs) const;
  /// Entry names of a folder, sorted, without dot files; empty when missing.
  std::vector<std::string> List(std::string_view abs) const;
  bool Exists(std::string_view abs) const;

 private:
  std::string root_;
};

}  // namespace slipway::installer
