// A FileOps for tests that passes every call to the real file system except
// the Nth (counting from 1), which fails as a full disk would.
#pragma once

#include <string>
#include <vector>

#include "common/file_ops.h"

namespace slipway::testing {

class FailingFileOps : public FileOps {
 public:
  /// `fail_at` 0 never fails.
  explicit FailingFileOps(int fail_at) : fail_at_(fail_at) {}

  Status WriteFile(const std::string& path, std::string_view data, mode_t mode) override {
    if (Fail("write " + path)) {
      // A full disk can leave a short file behind.
      (void)FileOps::Real().WriteFile(path, data.substr(0, data.size() / 2), mode);
      return Error::Runtime("cannot write " + path + ": No space left on device");
    }
    return FileOps::Real().WriteFile(path, data, mode);
  }
  Status Fsync(const std::string& path) override {
    if (Fail("fsync " + path)) return Error::Runtime("cannot fsync " + path + ": Input/output error");
    return FileOps::Real().Fsync(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (Fail("rename " + from)) return Error::Runtime("cannot rename " + from + ": No space left on device");
    return FileOps::Real().Rename(from, to);
  }
  Status MakeDir(const std::string& path, mode_t mode) override {
    if (Fail("mkdir " + path)) return Error::Runtime("cannot create " + path + ": No space left on device");
    return FileOps::Real().MakeDir(path, mode);
  }
  Status RemoveAll(const std::string& path) override { return FileOps::Real().RemoveAll(path); }

  int calls() const { return calls_; }
  bool failed() const { return failed_; }
  const std::vector<std::string>& log() const { return log_; }

 private:
  bool Fail(std::string what) {
    log_.push_back(std::move(what));
    if (++calls_ == fail_at_) {
      failed_ = true;
      return true;
    }
    return false;
  }
  int fail_at_;
  int calls_ = 0;
  bool failed_ = false;
  std::vector<std::string> log_;
};

}  // namespace slipway::testing
