// Kubernetes bundles: staging every listed file out of a folder or a tarball
// (libarchive, hostile entries refused) and checking it against the manifest.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "builder/kubernetes_bundle.h"
#include "common/atomic_file.h"
#include "common/hash.h"
#include "common/input_file.h"
#include "common/strings.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveFree>;

Result<ArchiveReader> OpenTarball(const std::string& path) {
  ArchiveReader a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Error::Input(path + ": cannot read the bundle as a tarball: " + archive_error_string(a.get()) +
                        "; give a folder or a .tar, .tar.gz or .tar.zst");
  }
  return a;
}

// The entry's name without a leading "./"; empty for the root itself.
std::string CleanName(archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  std::string_view n = raw ? raw : "";
  while (StartsWith(n, "./")) n.remove_prefix(2);
  if (n == ".") n = "";
  while (!n.empty() && n.back() == '/') n.remove_suffix(1);
  return std::string(n);
}

bool ClimbsOut(const std::vector<std::string>& parts) {
  int depth = 0;
  for (const std::string& p : parts) {
    if (p.empty() || p == ".") continue;
    depth += p == ".." ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}

// Empty when the tarball entry may be extracted.
std::string EntryProblem(archive_entry* e, const std::string& name) {
  const char* raw = archive_entry_pathname(e);
  std::string shown = SanitizeForDisplay(raw ? raw : "", false);
  if (raw && raw[0] == '/') return "entry '" + shown + "' has an absolute path";
  for (const std::string& p : Split(name, '/')) {
    if (p == "..") return "entry '" + shown + "' contains '..'";
  }
  if (const char* link = archive_entry_hardlink(e)) {
    return "hard link '" + shown + "' -> '" + SanitizeForDisplay(link, false) +
           "': a bundle holds regular files and folders only";
  }
  mode_t type = archive_entry_filetype(e);
  if (type == AE_IFLNK) {
    std::string target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
    std::vector<std::string> parts = Split(name, '/');
    parts.pop_back();
    for (const std::string& p : Split(target, '/')) parts.push_back(p);
    if ((!target.empty() && target[0] == '/') || ClimbsOut(parts)) {
      return "symlink '" + shown + "' points out of the bundle ('" + SanitizeForDisplay(target, false) + "')";
    }
    return "symlink '" + shown + "': a bundle holds regular files and folders only";
  }
  if (type == AE_IFCHR || type == AE_IFBLK) return "entry '" + shown + "' is a device node";
  if (type == AE_IFIFO || type == AE_IFSOCK) return "entry '" + shown + "' is a FIFO or socket";
  if (type != AE_IFREG && type != AE_IFDIR) return "entry '" + shown + "' is not a regular file or folder";
  if (type == AE_IFREG && archive_entry_size(e) > static_cast<la_int64_t>(kMaxBundleFileBytes)) {
    return "entry '" + shown + "' is " + FormatBytes(static_cast<uint64_t>(archive_entry_size(e))) +
           ", over the limit of " + FormatBytes(kMaxBundleFileBytes) + " for one bundle file";
  }
  return "";
}

// Extracts the regular files and folders of `tarball` into `dest`, never
// through a link (none is extracted) and never over an existing file.
Status ExtractBundleTarball(const std::string& tarball, const std::string& dest) {
  auto in = OpenTarball(tarball);
  if (!in) return std::move(in).error();
  archive* a = in->get();
  auto refuse = [&](const std::string& why) { return Error::Input(tarball + ": " + why + "; the bundle is refused"); };
  archive_entry* e = nullptr;
  size_t entries = 0;
  uint64_t total = 0;
  std::vector<char> buf(1 << 16);
  while (true) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return refuse(std::string("corrupt tarball: ") + archive_error_string(a));
    if (++entries > kMaxBundleEntries) {
      return refuse("more than " + std::to_string(kMaxBundleEntries) + " entries");
    }
    std::string name = CleanName(e);
    if (std::string why = EntryProblem(e, name); !why.empty()) return refuse(why);
    if (name.empty()) continue;
    std::string out = dest + "/" + name;
    std::error_code ec;
    if (archive_entry_filetype(e) == AE_IFDIR) {
      fs::create_directories(out, ec);
      if (ec) return Error::Runtime("cannot create " + out + ": " + ec.message());
      continue;
    }
    total += static_cast<uint64_t>(archive_entry_size(e));
    if (total > kMaxBundleBytes) return refuse("its files add up to more than " + FormatBytes(kMaxBundleBytes));
    fs::create_directories(fs::path(out).parent_path(), ec);
    if (ec) return refuse("entry '" + SanitizeForDisplay(name) + "' cannot be placed: " + ec.message());
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) return refuse("entry '" + SanitizeForDisplay(name) + "' appears twice");
      return Error::Errno("cannot create", out, errno);
    }
    la_ssize_t n = 0;
    while ((n = archive_read_data(a, buf.data(), buf.size())) > 0) {
      if (auto st = WriteAll(fd, std::string_view(buf.data(), static_cast<size_t>(n)), out); !st) {
        ::close(fd);
        return st;
      }
    }
    ::close(fd);
    if (n < 0) return refuse("cannot read '" + SanitizeForDisplay(name) + "': " + archive_error_string(a));
  }
  return Ok();
}

// Copies each listed file of the folder `bundle` into `dest`. Links are not
// followed: a listed symlink is refused, like one in a tarball.
Status CopyBundleFolder(const std::string& bundle, const BundleManifest& m, const std::string& dest) {
  for (const BundleFile& f : m.files) {
    std::string src = bundle + "/" + f.path;
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0) continue;  // reported as missing by the check
    if (!S_ISREG(st.st_mode)) {
      return Error::Input(bundle + ": '" + f.path + "' is not a regular file (a link, folder or device); " +
                          "a bundle holds regular files only");
    }
    if (static_cast<uint64_t>(st.st_size) > kMaxBundleFileBytes) {
      return Error::Input(bundle + ": '" + f.path + "' is over the limit of " + FormatBytes(kMaxBundleFileBytes));
    }
    std::error_code ec;
    fs::create_directories(fs::path(dest + "/" + f.path).parent_path(), ec);
    fs::copy_file(src, dest + "/" + f.path, ec);
    if (ec) return Error::Runtime("cannot copy " + src + ": " + ec.message());
  }
  return Ok();
}

// Every regular file below `root`, relative, except the manifest.
std::set<std::string> FilesBelow(const std::string& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_symlink() || !it->is_directory()) {
      std::string rel = fs::relative(it->path(), root).generic_string();
      if (rel != kBundleManifestName) out.insert(rel);
    }
  }
  return out;
}

Result<BundleManifest> ParseManifestFile(const std::string& path, const std::string& display) {
  auto text = ReadInputFile(path, kMaxTomlBytes);
  if (!text) return Error::Input(display + ": " + text.error().message());
  Diagnostics diags;
  auto m = ParseBundleManifest(*text, display, &diags);
  if (m) return *m;
  std::vector<std::string> lines;
  for (const Diagnostic& d : diags.items()) {
    // The display name of a tarball's manifest is not a file to quote from.
    lines.push_back(display == path ? RenderDiagnostic(d) : FormatDiagnostic(d));
  }
  return Error::Input("the bundle's manifest has " + std::to_string(diags.ErrorCount()) + " error(s):\n" +
                      Join(lines, "\n"));
}

// The folder holding the manifest: `root` or its only subfolder.
std::string ManifestRoot(const std::string& root) {
  if (fs::exists(root + "/" + kBundleManifestName)) return root;
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) dirs.push_back(e.path());
  if (dirs.size() == 1 && fs::is_directory(dirs[0]) && fs::exists(dirs[0] / kBundleManifestName)) {
    return dirs[0].string();
  }
  return "";
}

Status CheckStaged(const std::string& bundle, const BundleManifest& m, const std::string& root,
                   std::set<std::string> present) {
  std::vector<std::string> missing, mismatched;
  for (const BundleFile& f : m.files) {
    present.erase(f.path);
    std::string staged = root + "/" + f.path;
    if (!fs::is_regular_file(staged)) {
      missing.push_back(f.path);
      continue;
    }
    auto sum = Sha256File(staged);
    if (!sum) return std::move(sum).error();
    if (*sum != f.sha256) {
      mismatched.push_back("  " + f.path + ": expected sha256 " + f.sha256 + ", actual " + *sum);
    }
  }
  std::vector<std::string> problems;
  if (!mismatched.empty()) {
    problems.push_back(std::to_string(mismatched.size()) + " file(s) do not match the manifest:\n" +
                       Join(mismatched, "\n") +
                       "\n  (the file was changed or damaged: fetch it again, or fix its sha256 if the manifest is "
                       "what is wrong)");
  }
  if (!missing.empty()) {
    problems.push_back("listed in the manifest but not in the bundle: " + Join(missing, ", "));
  }
  if (!present.empty()) {
    problems.push_back("in the bundle but not in the manifest: " +
                       Join(std::vector<std::string>(present.begin(), present.end()), ", ") +
                       " (list each with its sha256, or remove it)");
  }
  if (problems.empty()) return Ok();
  return Error::Input(bundle + ": " + Join(problems, "; ") + "\nnothing was written");
}

}  // namespace

Result<VerifiedBundle> VerifyBundle(const std::string& bundle, const std::string& staging) {
  std::error_code ec;
  if (!fs::exists(bundle, ec)) {
    return Error::Input("Kubernetes bundle '" + bundle + "' does not exist (give a folder or a tarball holding " +
                        kBundleManifestName + "; see docs/kubernetes-bundle.md)");
  }
  if (fs::exists(staging, ec)) return Error::Input("bundle staging folder " + staging + " already exists");
  fs::create_directories(staging, ec);
  if (ec) return Error::Runtime("cannot create " + staging + ": " + ec.message());
  auto result = [&]() -> Result<VerifiedBundle> {
    VerifiedBundle v;
    if (fs::is_directory(bundle)) {
      auto m = ParseManifestFile(bundle + "/" + kBundleManifestName, bundle + "/" + kBundleManifestName);
      if (!m) return std::move(m).error();
      if (auto st = CopyBundleFolder(bundle, *m, staging); !st) return std::move(st).error();
      std::set<std::string> present = FilesBelow(bundle);
      if (auto st = CheckStaged(bundle, *m, staging, present); !st) return std::move(st).error();
      v.manifest = std::move(*m);
      v.dir = staging;
      return v;
    }
    if (auto st = ExtractBundleTarball(bundle, staging); !st) return std::move(st).error();
    std::string root = ManifestRoot(staging);
    if (root.empty()) {
      return Error::Input(bundle + ": no " + std::string(kBundleManifestName) +
                          " at the tarball's root (or in its only folder); see docs/kubernetes-bundle.md");
    }
    std::string display = bundle + "/" + fs::relative(root + "/" + kBundleManifestName, staging).generic_string();
    auto m = ParseManifestFile(root + "/" + kBundleManifestName, display);
    if (!m) return std::move(m).error();
    if (auto st = CheckStaged(bundle, *m, root, FilesBelow(root)); !st) return std::move(st).error();
    v.manifest = std::move(*m);
    v.dir = root;
    return v;
  }();
  if (!result) fs::remove_all(staging, ec);
  return result;
}

Result<BundleManifest> ReadBundleManifestOf(const std::string& bundle) {
  std::error_code ec;
  if (fs::is_directory(bundle, ec)) {
    std::string path = bundle + "/" + kBundleManifestName;
    return ParseManifestFile(path, path);
  }
  if (!fs::exists(bundle, ec)) {
    return Error::Input("Kubernetes bundle '" + bundle + "' does not exist (give a folder or a tarball holding " +
                        kBundleManifestName + ")");
  }
  auto in = OpenTarball(bundle);
  if (!in) return std::move(in).error();
  archive_entry* e = nullptr;
  for (size_t n = 0; n < kMaxBundleEntries; ++n) {
    int r = archive_read_next_header(in->get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return Error::Input(bundle + ": corrupt tarball: " + archive_error_string(in->get()));
    std::string name = CleanName(e);
    std::vector<std::string> parts = Split(name, '/');
    if (parts.empty() || parts.back() != kBundleManifestName || parts.size() > 2) continue;
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_size(e) > static_cast<la_int64_t>(kMaxTomlBytes)) {
      return Error::Input(bundle + ": '" + SanitizeForDisplay(name) + "' is not a regular file under " +
                          FormatBytes(kMaxTomlBytes));
    }
    std::string text(static_cast<size_t>(archive_entry_size(e)), '\0');
    for (size_t got = 0; got < text.size();) {
      la_ssize_t r = archive_read_data(in->get(), text.data() + got, text.size() - got);
      if (r <= 0) return Error::Input(bundle + ": cannot read " + name);
      got += static_cast<size_t>(r);
    }
    std::string display = bundle + "/" + name;
    Diagnostics diags;
    auto m = ParseBundleManifest(text, display, &diags);
    if (m) return *m;
    std::vector<std::string> lines;
    for (const Diagnostic& d : diags.items()) lines.push_back(FormatDiagnostic(d));
    return Error::Input("the bundle's manifest has " + std::to_string(diags.ErrorCount()) + " error(s):\n" +
                        Join(lines, "\n"));
  }
  return Error::Input(bundle + ": no " + std::string(kBundleManifestName) + " in the tarball");
}

}  // namespace slipway::builder
