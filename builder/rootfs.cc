// Rootfs sources.
#include "builder/rootfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "common/strings.h"
#include "common/subprocess.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

// Depth of `path` below the root after resolving "." and ".."; negative when
// it climbs out.
int Depth(const std::vector<std::string>& parts) {
  int depth = 0;
  for (const std::string& p : parts) {
    if (p.empty() || p == ".") continue;
    depth += p == ".." ? -1 : 1;
    if (depth < 0) return -1;
  }
  return depth;
}

std::vector<std::string> Parts(std::string_view p) { return Split(p, '/'); }

std::string Check(archive_entry* e, const ExtractPolicy& policy) {
  std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
  if (name.empty()) return "an entry has no name";
  std::string_view rel = name;
  if (StartsWith(rel, "./")) rel.remove_prefix(2);
  if (!rel.empty() && rel[0] == '/') return "entry '" + name + "' has an absolute path";
  for (const std::string& p : Parts(rel)) {
    if (p == "..") return "entry '" + name + "' contains '..'";
  }
  mode_t type = archive_entry_filetype(e);
  if ((type == AE_IFCHR || type == AE_IFBLK) && !policy.allow_device_nodes) {
    return "entry '" + name + "' is a device node; set [rootfs] allow_device_nodes = true if the image needs it";
  }
  if (const char* link = archive_entry_hardlink(e)) {
    std::string_view t = link;
    if (StartsWith(t, "./")) t.remove_prefix(2);
    if (!t.empty() && t[0] == '/') return "hard link '" + name + "' points at an absolute path '" + link + "'";
    if (Depth(Parts(t)) < 0) return "hard link '" + name + "' points outside the root ('" + link + "')";
  }
  if (type == AE_IFLNK) {
    std::string target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
    if (!target.empty() && target[0] == '/') {
      if (!policy.allow_absolute_symlinks) {
        return "symlink '" + name + "' points at the absolute path '" + target +
               "'; refused by default (set [rootfs] allow_absolute_symlinks = true to accept absolute links, "
               "which extraction never follows)";
      }
    } else {
      std::vector<std::string> parts = Parts(rel);
      parts.pop_back();  // the link's own name
      for (const std::string& p : Parts(target)) parts.push_back(p);
      if (Depth(parts) < 0) return "symlink '" + name + "' escapes the root (points at '" + target + "')";
    }
  }
  return "";
}

}  // namespace

Status ExtractTarball(const std::string& tarball, const std::string& dest, const ExtractPolicy& policy) {
  if (fs::exists(dest)) return Error::Input("extraction target " + dest + " already exists");
  archive* in = archive_read_new();
  archive_read_support_format_all(in);
  archive_read_support_filter_all(in);
  archive* out = archive_write_disk_new();
  int flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_ACL |
              ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
              ARCHIVE_EXTRACT_SECURE_NODOTDOT;
  // Entries are written as <dest>/<name>: absolute by construction, so
  // SECURE_NOABSOLUTEPATHS cannot be used; Check() refuses absolute names.
  archive_write_disk_set_options(out, flags);
  archive_write_disk_set_standard_lookup(out);
  auto fail = [&](std::string why) {
    archive_read_free(in);
    archive_write_free(out);
    std::error_code ec;
    fs::remove_all(dest, ec);
    return Error::Input(tarball + ": " + why + "; nothing was extracted");
  };
  if (archive_read_open_filename(in, tarball.c_str(), 1 << 16) != ARCHIVE_OK) {
    return fail(std::string("cannot read: ") + archive_error_string(in));
  }
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return fail("cannot create " + dest + ": " + ec.message());
  archive_entry* e = nullptr;
  while (true) {
    int r = archive_read_next_header(in, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return fail(std::string("corrupt archive: ") + archive_error_string(in));
    std::string problem = Check(e, policy);
    if (!problem.empty()) return fail(problem);
    std::string name = archive_entry_pathname(e);
    archive_entry_set_pathname(e, (dest + "/" + name).c_str());
    if (const char* link = archive_entry_hardlink(e)) archive_entry_set_hardlink(e, (dest + "/" + link).c_str());
    if (archive_write_header(out, e) < ARCHIVE_WARN) {
      return fail("cannot write '" + name + "': " + archive_error_string(out));
    }
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while ((r = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK) {
      if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN) {
        return fail("cannot write data of '" + name + "': " + archive_error_string(out));
      }
    }
    if (r != ARCHIVE_EOF) return fail("cannot read data of '" + name + "': " + archive_error_string(in));
    if (archive_write_finish_entry(out) < ARCHIVE_WARN) return fail("cannot finish '" + name + "'");
  }
  archive_read_free(in);
  if (archive_write_close(out) != ARCHIVE_OK) return fail(std::string("cannot finish: ") + archive_error_string(out));
  archive_write_free(out);
  return Ok();
}

Status CopyTree(const std::string& src, const std::string& dest) {
  if (!fs::is_directory(src)) return Error::Input("rootfs directory " + src + " does not exist");
  RunOptions o;
  o.create_dir = dest;
  o.allow_failure = true;
  // A hard-link farm: new directories, the source's file inodes. Copying an
  // 800 MB tree cost more than the whole disk stage; the steps that change a
  // file in place call BreakHardLink first, so the source is never modified.
  auto linked = RunCommand({"cp", "-al", src + "/.", dest + "/"}, o);
  if (linked && linked->exit_code == 0) return Ok();
  std::error_code ec;
  fs::remove_all(dest, ec);
  o.allow_failure = false;
  auto r = RunCommand({"cp", "-a", "--reflink=auto", src + "/.", dest + "/"}, o);
  if (!r) return std::move(r).error();
  return Ok();
}

Status BreakHardLink(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Error::Errno("cannot stat", path, errno);
  if (!S_ISREG(st.st_mode) || st.st_nlink < 2) return Ok();
  std::string tmp = path + ".slipway-own";
  std::error_code ec;
  fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return Error::Runtime("cannot copy " + path + " to break its hard link: " + ec.message());
  ::chmod(tmp.c_str(), st.st_mode & 07777);
  if (::lchown(tmp.c_str(), st.st_uid, st.st_gid) != 0 && ::geteuid() == 0) {
    fs::remove(tmp, ec);
    return Error::Errno("cannot chown", tmp, errno);
  }
  timespec times[2] = {st.st_atim, st.st_mtim};
  ::utimensat(AT_FDCWD, tmp.c_str(), times, AT_SYMLINK_NOFOLLOW);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    fs::remove(tmp, ec);
    return Error::Errno("cannot rename over", path, e);
  }
  return Ok();
}

Status Bootstrap(const ImageDefinition& def, const std::string& def_hash, const std::string& cache_dir,
                 const std::string& dest) {
  std::string cached = cache_dir + "/" + def_hash + ".tar";
  if (!fs::exists(cached)) {
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    std::string tmp = cached + ".tmp";
    std::vector<std::string> cmd = {"mmdebstrap", "--variant=minbase", "--mode=auto", "--format=tar"};
    if (!def.rootfs.packages.empty()) cmd.push_back("--include=" + Join(def.rootfs.packages, ","));
    cmd.push_back(def.rootfs.suite);
    cmd.push_back(tmp);
    auto r = RunCommand(cmd, {});
    if (!r) return std::move(r).error().Context("bootstrapping " + def.name + " with mmdebstrap");
    fs::rename(tmp, cached, ec);
    if (ec) return Error::Runtime("cannot store " + cached + ": " + ec.message());
  }
  return ExtractTarball(cached, dest, {true, true});
}

}  // namespace slipway::builder
