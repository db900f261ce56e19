// Seed ISO writing.
#include "installer/apply/seed_iso.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "common/atomic_file.h"

namespace slipway::installer {

Status WriteSeedIso(const std::string& path, const std::string& label,
                    const std::vector<std::pair<std::string, std::string>>& files, long mtime) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Errno("cannot create seed ISO", tmp, errno);
  ::fchmod(fd, 0600);
  archive* a = archive_write_new();
  auto fail = [&](const std::string& what) {
    std::string msg = what + ": " + (archive_error_string(a) ? archive_error_string(a) : "libarchive error");
    archive_write_free(a);
    ::close(fd);
    ::unlink(tmp.c_str());
    return Error::Runtime("seed ISO " + path + ": " + msg);
  };
  std::string options = "iso9660:volume-id=" + label + ",iso9660:rockridge,iso9660:joliet";
  if (archive_write_set_format_iso9660(a) != ARCHIVE_OK) return fail("iso9660 format");
  if (archive_write_set_options(a, options.c_str()) != ARCHIVE_OK) return fail("options " + options);
  if (archive_write_open_fd(a, fd) != ARCHIVE_OK) return fail("open");
  std::set<std::string> dirs;
  for (const auto& [name, content] : files) {
    // Parent folders first (openstack/latest/...).
    for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      std::string dir = name.substr(0, slash);
      if (!dirs.insert(dir).second) continue;
      archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, dir.c_str());
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0555);
      archive_entry_set_mtime(e, mtime, 0);
      if (archive_write_header(a, e) != ARCHIVE_OK) {
        archive_entry_free(e);
        return fail("folder " + dir);
      }
      archive_entry_free(e);
    }
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0400);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(e, mtime, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK) {
      archive_entry_free(e);
      return fail("entry " + name);
    }
    archive_entry_free(e);
    if (archive_write_data(a, content.data(), content.size()) != static_cast<la_ssize_t>(content.size())) {
      return fail("data of " + name);
    }
  }
  if (archive_write_close(a) != ARCHIVE_OK) return fail("close");
  archive_write_free(a);
  return CommitTempFile(fd, tmp, path);
}

Result<std::vector<std::pair<std::string, std::string>>> ReadIsoFiles(const std::string& path) {
  archive* a = archive_read_new();
  archive_read_support_format_iso9660(a);
  std::vector<std::pair<std::string, std::string>> files;
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
    std::string msg = archive_error_string(a) ? archive_error_string(a) : "not an ISO9660 image";
    archive_read_free(a);
    return Error::Input("cannot read " + path + ": " + msg);
  }
  archive_entry* e = nullptr;
  int r = ARCHIVE_OK;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string name = archive_entry_pathname(e);
    if (name.rfind("./", 0) == 0) name = name.substr(2);
    std::string body(static_cast<size_t>(archive_entry_size(e)), '\0');
    if (archive_read_data(a, body.data(), body.size()) != static_cast<la_ssize_t>(body.size())) {
      r = ARCHIVE_FATAL;
      break;
    }
    files.emplace_back(std::move(name), std::move(body));
  }
  std::string msg = r == ARCHIVE_EOF ? "" : (archive_error_string(a) ? archive_error_string(a) : "read error");
  archive_read_free(a);
  if (!msg.empty()) return Error::Runtime("cannot read " + path + ": " + msg);
  return files;
}

}  // namespace slipway::installer
