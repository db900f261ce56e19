// Durable file writes: write to a temp file in the same folder, fsync it,
// rename it over the target, fsync the folder. A crash leaves either the old
// file or the new one, never a torn one.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/error.h"

namespace slipway {

/// Writes `data` to `path` atomically with permissions `mode` (the mode is set
/// on the temp file before any byte is written, so secrets are never exposed).
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);

/// Finishes a file written to `tmp` through `fd`: fsync, close, rename over
/// `path`, fsync the folder. On any failure `tmp` is removed. Takes `fd`.
/// Writes all of `data` to `fd` (retrying short writes and EINTR); the error
/// names `path`. Does not close `fd`.
Status WriteAll(int fd, std::string_view data, const std::string& path);

Status CommitTempFile(int fd, const std::string& tmp, const std::string& path);

/// Reads a whole file. Errors name the path and the OS reason.
Result<std::string> ReadFile(const std::string& path);

}  // namespace slipway
