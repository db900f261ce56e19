// The real FileOps and the durable single-file write on top of it.
#include "common/file_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/atomic_file.h"

namespace slipway {

namespace {

class RealFileOps : public FileOps {
 public:
  Status WriteFile(const std::string& path, std::string_view data, mode_t mode) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return Error::Errno("cannot create", path, errno);
    // O_CREAT honours the umask; force the exact mode before writing.
    if (::fchmod(fd, mode) != 0) {
      int e = errno;
      ::close(fd);
      return Error::Errno("cannot set mode of", path, e);
    }
    if (auto st = WriteAll(fd, data, path); !st) {
      ::close(fd);
      return st;
    }
    if (::close(fd) != 0) return Error::Errno("cannot close", path, errno);
    return Ok();
  }

  Status Fsync(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::Errno("cannot open for fsync", path, errno);
    if (::fsync(fd) != 0) {
      int e = errno;
      ::close(fd);
      return Error::Errno("cannot fsync", path, e);
    }
    ::close(fd);
    return Ok();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Error::Errno("cannot rename into place", to, errno);
    return Ok();
  }

  Status MakeDir(const std::string& path, mode_t mode) override {
    if (::mkdir(path.c_str(), mode) != 0) return Error::Errno("cannot create folder", path, errno);
    if (::chmod(path.c_str(), mode) != 0) return Error::Errno("cannot set mode of", path, errno);
    return Ok();
  }

  Status RemoveAll(const std::string& path) override {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) return Error::Runtime("cannot remove " + path + ": " + ec.message());
    return Ok();
  }
};

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

FileOps& FileOps::Real() {
  static RealFileOps* ops = new RealFileOps();  // never destroyed: usable from any static
  return *ops;
}

Status WriteFileDurably(FileOps& ops, const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Status st = ops.WriteFile(tmp, data, mode);
  if (st) st = ops.Fsync(tmp);
  if (st) st = ops.Rename(tmp, path);
  if (!st) {
    (void)ops.RemoveAll(tmp);
    return st;
  }
  // After the rename the new file is in place; the folder fsync makes the
  // rename itself survive a power cut.
  return ops.Fsync(DirOf(path));
}

}  // namespace slipway
