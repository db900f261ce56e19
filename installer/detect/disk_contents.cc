// Disk contents through libblkid (the library behind blkid(8) and udev's
// ID_FS_* values): safe probing only, never a write.
#include "installer/detect/disk_contents.h"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace slipway::installer {

namespace {

struct ProbeFree {
  void operator()(blkid_probe p) const { blkid_free_probe(p); }
};
using ProbePtr = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeFree>;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string Lookup(blkid_probe pr, const char* name) {
  const char* v = nullptr;
  if (blkid_probe_lookup_value(pr, name, &v, nullptr) == 0 && v) return v;
  return "";
}

// Probes the superblocks of [offset, offset+size) of `fd`; size 0: to the end.
Result<std::optional<FsSignature>> ProbeFs(int fd, int64_t offset, int64_t size, const std::string& where) {
  ProbePtr pr(blkid_new_probe());
  if (!pr) return Error::Runtime("libblkid: cannot allocate a probe");
  if (blkid_probe_set_device(pr.get(), fd, offset, size) != 0) {
    return Error::Runtime("libblkid cannot read " + where);
  }
  blkid_probe_enable_superblocks(pr.get(), 1);
  blkid_probe_set_superblocks_flags(pr.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
  blkid_probe_enable_partitions(pr.get(), 0);
  int rc = blkid_do_safeprobe(pr.get());
  // 1: nothing found; -2: ambiguous (two signatures), still "holds something".
  if (rc == 1) return std::optional<FsSignature>();
  if (rc == -2) return std::optional<FsSignature>(FsSignature{where, "ambiguous (several signatures)", ""});
  if (rc != 0) return Error::Runtime("libblkid cannot probe " + where);
  return std::optional<FsSignature>(FsSignature{where, Lookup(pr.get(), "TYPE"), Lookup(pr.get(), "LABEL")});
}

std::string PartName(const std::string& disk, int n) {
  bool digit_end = !disk.empty() && disk.back() >= '0' && disk.back() <= '9';
  return disk + (digit_end ? "p" : "") + std::to_string(n);
}

}  // namespace

std::string DiskContents::Describe() const {
  if (Empty()) return "empty (no partition table, no file system)";
  std::string out;
  if (!partition_table.empty()) {
    out = partition_table + " partition table with " + std::to_string(partitions) + " partition" +
          (partitions == 1 ? "" : "s");
  }
  for (const FsSignature& f : file_systems) {
    if (!out.empty()) out += "; ";
    out += f.where + " " + f.type + (f.label.empty() ? "" : " '" + f.label + "'");
  }
  return out;
}

Result<DiskContents> ProbeDiskContents(const std::string& path, const std::string& disk_name,
                                       const std::string& shown_path) {
  const std::string& shown = shown_path.empty() ? path : shown_path;
  Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (fd.fd < 0) return Error::Runtime("cannot open " + shown + " to read what it holds: " + std::strerror(errno));
  DiskContents c;
  ProbePtr pr(blkid_new_probe());
  if (!pr || blkid_probe_set_device(pr.get(), fd.fd, 0, 0) != 0) {
    return Error::Runtime("libblkid cannot read " + shown);
  }
  blkid_probe_enable_superblocks(pr.get(), 1);
  blkid_probe_set_superblocks_flags(pr.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
  blkid_probe_enable_partitions(pr.get(), 1);
  blkid_probe_set_partitions_flags(pr.get(), BLKID_PARTS_ENTRY_DETAILS);
  int rc = blkid_do_safeprobe(pr.get());
  if (rc < 0 && rc != -2) return Error::Runtime("libblkid cannot probe " + shown);
  if (rc == -2) c.file_systems.push_back({disk_name, "ambiguous (several signatures)", ""});
  if (rc == 0) {
    c.partition_table = Lookup(pr.get(), "PTTYPE");
    std::string type = Lookup(pr.get(), "TYPE");
    // An isohybrid image has both: the ISO file system and an MBR/GPT.
    if (!type.empty()) c.file_systems.push_back({disk_name, type, Lookup(pr.get(), "LABEL")});
  }
  if (blkid_partlist ls = blkid_probe_get_partitions(pr.get())) {
    if (c.partition_table.empty()) {
      if (blkid_parttable t = blkid_partlist_get_table(ls)) c.partition_table = blkid_parttable_get_type(t);
    }
    c.partitions = blkid_partlist_numof_partitions(ls);
    for (int i = 0; i < c.partitions; ++i) {
      blkid_partition part = blkid_partlist_get_partition(ls, i);
      if (!part) continue;
      int64_t start = blkid_partition_get_start(part) * 512, size = blkid_partition_get_size(part) * 512;
      if (size <= 0) continue;
      auto fs = ProbeFs(fd.fd, start, size, PartName(disk_name, blkid_partition_get_partno(part)));
      if (!fs) return std::move(fs).error();
      if (*fs) c.file_systems.push_back(**fs);
    }
  }
  return c;
}

}  // namespace slipway::installer
