// The file-operations seam, after leveldb's Env: the writes, fsyncs, renames
// and folder operations that make state durable go through this interface,
// so that a test can make the Nth one fail (disk full, failed fsync) and prove
// that nothing is lost or minted twice. FileOps::Real() is the system.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/error.h"

namespace slipway {

class FileOps {
 public:
  virtual ~FileOps() = default;

  /// Creates or truncates `path` with exactly `mode` and writes `data`
  /// (no fsync). On failure the partial file may remain.
  virtual Status WriteFile(const std::string& path, std::string_view data, mode_t mode) = 0;
  /// fsync(2) of a file or a folder.
  virtual Status Fsync(const std::string& path) = 0;
  /// rename(2); fails (ENOTEMPTY/EEXIST) rather than replace a non-empty folder.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  /// mkdir(2) with exactly `mode`; an existing folder is an error.
  virtual Status MakeDir(const std::string& path, mode_t mode) = 0;
  /// Removes a file or a folder tree; a missing path is fine.
  virtual Status RemoveAll(const std::string& path) = 0;

  /// The real file system. Thread-safe; never destroyed.
  static FileOps& Real();
};

/// Writes `path` durably through `ops`: a temp file beside it, fsync,
/// rename over `path`, fsync of the folder. A failure before the rename
/// leaves `path` as it was (the temp file is removed, best effort).
Status WriteFileDurably(FileOps& ops, const std::string& path, std::string_view data, mode_t mode);

}  // namespace slipway
