// Bounded input reads: open without blocking, fstat, refuse what is not a
// regular file or is too big, then read at most the cap.
#include "common/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/strings.h"

namespace slipway {

Result<std::string> ReadInputFile(const std::string& path, uint64_t max_bytes) {
  // O_NONBLOCK so that a FIFO without a writer does not hang the open; it has
  // no effect on the reads of a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int e = errno;
    Error err = Error::Errno("cannot open", path, e);
    if (e == ENOENT || e == ENOTDIR || e == EACCES || e == EISDIR) return Error::Input(err.message());
    return err;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Error::Errno("cannot stat", path, e);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error::Input(path + ": not a regular file (" +
                        std::string(S_ISDIR(st.st_mode)    ? "a folder"
                                    : S_ISCHR(st.st_mode)  ? "a character device"
                                    : S_ISBLK(st.st_mode)  ? "a block device"
                                    : S_ISFIFO(st.st_mode) ? "a FIFO"
                                    : S_ISSOCK(st.st_mode) ? "a socket"
                                                           : "not a file") +
                        "); give the path of a file");
  }
  auto too_big = [&](uint64_t size) {
    return Error::Input(
        path + ": " + (size > max_bytes ? "is " + std::to_string(size) + " bytes" : std::string("grew while read")) +
        "; input files of this kind are capped at " + FormatBytes(max_bytes) + " (is this the right file?)");
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return too_big(static_cast<uint64_t>(st.st_size));
  }
  std::string data;
  data.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Error::Errno("cannot read", path, e);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    // The file may grow between fstat and read; the cap still holds.
    if (data.size() > max_bytes) {
      ::close(fd);
      return too_big(data.size());
    }
  }
  ::close(fd);
  return data;
}

}  // namespace slipway
