// Sysroot reads.
#include "installer/detect/sysroot.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "common/strings.h"

namespace slipway::installer {

Sysroot::Sysroot(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string Sysroot::Path(std::string_view abs) const {
  if (root_ == "/" || root_.empty()) return std::string(abs);
  return root_ + std::string(abs);
}

Result<std::string> Sysroot::ReadBinary(std::string_view abs) const {
  std::string path = Path(abs);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot read", abs, errno);
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Error::Errno("cannot read", abs, e);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<std::string> Sysroot::Read(std::string_view abs) const { return ReadBinary(abs); }

Result<std::string> Sysroot::ReadLine(std::string_view abs) const {
  // One read(2) is enough: callers read sysfs attributes and small files
  // whose first line fits in a page. Saves the EOF read and a copy.
  std::string path = Path(abs);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot read", abs, errno);
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  int e = errno;
  ::close(fd);
  if (n < 0) return Error::Errno("cannot read", abs, e);
  std::string_view s(buf, static_cast<size_t>(n));
  s = s.substr(0, s.find('\n'));
  return std::string(Trim(s));
}

std::optional<std::string> Sysroot::ReadLink(std::string_view abs) const {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(Path(abs).c_str(), buf, sizeof buf - 1);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::optional<std::string> Sysroot::Resolve(std::string_view abs) const {
  // Walk component by component so that relative symlinks stay inside the
  // sysroot (sysfs links are relative; absolute ones are re-rooted).
  std::vector<std::string> done;
  std::vector<std::string> todo;
  for (const std::string& part : Split(abs, '/')) {
    if (!part.empty()) todo.push_back(part);
  }
  std::reverse(todo.begin(), todo.end());
  int hops = 0;
  while (!todo.empty()) {
    std::string part = todo.back();
    todo.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(part);
    std::string cur = "/" + Join(done, "/");
    if (auto link = ReadLink(cur)) {
      if (++hops > 40) return std::nullopt;
      done.pop_back();
      if (!link->empty() && (*link)[0] == '/') done.clear();
      std::vector<std::string> parts;
      for (const std::string& p : Split(*link, '/')) {
        if (!p.empty()) parts.push_back(p);
      }
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(*it);
    } else if (!Exists(cur)) {
      return std::nullopt;
    }
  }
  return "/" + Join(done, "/");
}

std::vector<std::string> Sysroot::List(std::string_view abs) const {
  std::vector<std::string> out;
  DIR* dir = ::opendir(Path(abs).c_str());
  if (!dir) return out;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    // Dot files are never sysfs/procfs entries; fixtures use .keep markers.
    if (name[0] != '.') out.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

bool Sysroot::Exists(std::string_view abs) const {
  struct stat st {};
  return ::lstat(Path(abs).c_str(), &st) == 0;
}

}  // namespace slipway::installer
