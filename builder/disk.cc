// Disk image assembly.
#include "builder/disk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "common/atomic_file.h"
#include "common/gpt_disk.h"
#include "common/hash.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "firmware/signed_boot.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSector = kSectorBytes;
constexpr uint64_t kAlign = kMiB;  // partitions start on MiB boundaries
constexpr const char* kGptMbr = "/usr/lib/SYSLINUX/gptmbr.bin";

struct PartitionPlan {
  uint64_t esp_start, esp_end, root_start, root_end;  // sectors, inclusive ends
};

PartitionPlan Layout(uint64_t disk_bytes, const DiskBuild& spec) {
  PartitionPlan p;
  p.esp_start = kAlign / kSector;
  p.esp_end = p.esp_start + spec.esp_bytes / kSector - 1;
  p.root_start = p.esp_end + 1;
  uint64_t last_usable = disk_bytes / kSector - 34;
  p.root_end = (last_usable + 1) / (kAlign / kSector) * (kAlign / kSector) - 1;
  return p;
}

Status MakeSparse(const std::string& path, uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::Errno("cannot create", path, errno);
  int r = ::ftruncate(fd, static_cast<off_t>(size));
  int e = errno;
  ::close(fd);
  if (r != 0) return Error::Errno("cannot size", path, e);
  return Ok();
}

RunOptions ReproducibleEnv(long epoch) {
  // e2fsprogs 1.47.0 reads E2FSPROGS_FAKE_TIME=0 as unset and stamps the
  // superblock and its special inodes with the wall clock: use 1 for epoch 0.
  RunOptions ro;
  ro.env = {{"SOURCE_DATE_EPOCH", std::to_string(epoch)},
            {"E2FSPROGS_FAKE_TIME", std::to_string(std::max<long>(1, epoch))},
            {"MTOOLS_SKIP_CHECK", "1"},
            {"TZ", "UTC"}};
  return ro;
}

Status Run(const std::vector<std::string>& argv, const RunOptions& ro) {
  auto r = RunCommand(argv, ro);
  if (!r) return std::move(r).error();
  return Ok();
}

}  // namespace

std::string DerivedUuid(const std::string& seed, const std::string& purpose) {
  return NameUuid("disk:" + seed + ":" + purpose);
}

Status MakeEsp(const EspSpec& spec, const std::string& work_dir, const std::string& out) {
  std::error_code ec;
  RunOptions ro = ReproducibleEnv(spec.source_date_epoch);
  std::string vol_id = Sha256Hex(spec.seed + ":esp").substr(0, 8);
  if (auto st = MakeSparse(out, spec.bytes); !st) return st;
  if (auto st = Run({"mkfs.vfat", "-F", "32", "-n", "ESP", "-i", vol_id, "--invariant", out}, ro); !st) return st;
  std::string cfg = work_dir + "/cfg";
  fs::create_directories(cfg + "/EFI/debian", ec);
  // UEFI: shim, then Debian's signed GRUB, whose prefix is \EFI\debian on the
  // ESP it was loaded from; the kernel and initramfs are on the same ESP.
  auto grub_cfg = firmware::GrubConfig({spec.title, "/vmlinuz", "/initrd.img", spec.cmdline, ""});
  if (!grub_cfg) return std::move(grub_cfg).error();
  if (spec.uefi) {
    if (auto st = firmware::CheckSignedChain({firmware::kShim, firmware::kGrubDisk}); !st) return st;
  }
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"/EFI/debian/grub.cfg", *grub_cfg},
           {"/syslinux.cfg",
            "SERIAL 0 115200\nDEFAULT slipway\nTIMEOUT 0\nPROMPT 0\nLABEL slipway\n"
            "  LINUX /vmlinuz\n  INITRD /initrd.img\n  APPEND " +
                spec.cmdline + "\n"}}) {
    if (auto st = WriteFileAtomic(cfg + name, text); !st) return st;
  }
  // mcopy -m keeps source mtimes: pin them to SOURCE_DATE_EPOCH.
  auto pinned = [&](const std::string& src, const std::string& name) {
    std::string dst = cfg + "/" + name;
    fs::create_directories(fs::path(dst).parent_path(), ec);
    if (src != dst) fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec);
    auto t = std::chrono::file_clock::from_sys(std::chrono::system_clock::from_time_t(spec.source_date_epoch));
    fs::last_write_time(dst, t, ec);
    return dst;
  };
  std::string img = "-i" + out;
  std::vector<std::pair<std::string, std::string>> files = {{pinned(spec.kernel, "vmlinuz"), "::/vmlinuz"},
                                                            {pinned(spec.initrd, "initrd.img"), "::/initrd.img"}};
  if (spec.uefi) {
    if (auto st = Run({"mmd", img, "::/EFI", "::/EFI/BOOT", "::/EFI/debian"}, ro); !st) return st;
    files.push_back({pinned(firmware::kShim, "BOOTX64.EFI"), "::/EFI/BOOT/BOOTX64.EFI"});
    files.push_back({pinned(firmware::kGrubDisk, "grubx64.efi"), "::/EFI/BOOT/grubx64.efi"});
    files.push_back({pinned(cfg + "/EFI/debian/grub.cfg", "EFI/debian/grub.cfg"), "::/EFI/debian/grub.cfg"});
  }
  if (spec.bios) files.push_back({pinned(cfg + "/syslinux.cfg", "syslinux.cfg"), "::/syslinux.cfg"});
  for (const auto& [src, dst] : files) {
    if (auto st = Run({"mcopy", "-m", "-o", img, src, dst}, ro); !st) return st;
  }
  if (spec.bios) {
    if (auto st = Run({"syslinux", "--install", out}, ro); !st) return st;
  }
  fs::remove_all(cfg, ec);
  return Ok();
}

Status MakeExt4(const std::string& rootfs, const Ext4Spec& spec, const std::string& work_dir,
                const std::string& image) {
  std::error_code ec;
  RunOptions ro = ReproducibleEnv(spec.source_date_epoch);
  // The file system, straight from the tree, written by mkfs.ext4 into its
  // place in the image (-E offset): no second copy of the data.
  std::string root = image + "?offset=" + std::to_string(spec.offset);  // e2fsprogs' unix_io syntax
  std::string hash_seed = DerivedUuid(spec.seed, "ext4-hash-seed");
  if (auto st = Run({"mkfs.ext4", "-q", "-F", "-L", spec.label, "-U", spec.uuid, "-E",
                     "hash_seed=" + hash_seed + ",root_owner=0:0,nodiscard,offset=" + std::to_string(spec.offset), "-d",
                     rootfs, image, std::to_string(spec.bytes / 1024) + "k"},
                    ro);
      !st) {
    return st;
  }
  // mkfs.ext4 -d copies each file's times, and ctime cannot be set on the
  // tree (whose files may be the source's own, hard-linked): pin every time
  // afterwards with debugfs, so builds are reproducible. `sif PATH` follows a
  // final symlink, so symlinks are addressed by inode number, found with `ls -p`.
  const std::string at = " @" + std::to_string(spec.source_date_epoch) + "\n";
  auto pin = [&](const std::string& target) {
    return "sif " + target + " mtime" + at + "sif " + target + " ctime" + at + "sif " + target + " atime" + at +
           "sif " + target + " crtime" + at;
  };
  std::string script = pin("/"), listing;
  std::set<std::string> link_dirs;
  for (auto it = fs::recursive_directory_iterator(rootfs, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::string rel = "/" + it->path().lexically_relative(rootfs).string();
    if (rel.find('"') != std::string::npos || rel.find('\n') != std::string::npos) continue;
    if (it->is_symlink()) {
      link_dirs.insert(fs::path(rel).parent_path().string());
    } else {
      script += pin("\"" + rel + "\"");
    }
  }
  for (const std::string& d : link_dirs) listing += "ls -p \"" + d + "\"\n";
  std::string list_file = work_dir + "/list.debugfs";
  if (auto st = WriteFileAtomic(list_file, listing); !st) return st;
  auto listed = RunCommand({"debugfs", "-f", list_file, root}, ro);
  if (!listed) return std::move(listed).error();
  // Lines look like "/12/120777/0/0/sh/7/".
  for (const std::string& line : Split(listed->out, '\n')) {
    auto f = Split(line, '/');
    if (f.size() >= 4 && StartsWith(f[2], "120")) script += pin("<" + f[1] + ">");
  }
  std::string file = work_dir + "/pin-times.debugfs";
  if (auto st = WriteFileAtomic(file, script); !st) return st;
  return Run({"debugfs", "-w", "-f", file, root}, ro);
}

Result<DiskResult> BuildDisk(const std::string& rootfs, const DiskBuild& spec, const std::string& work_dir,
                             const std::string& out) {
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  DiskResult res;
  res.disk_guid = DerivedUuid(spec.seed, "disk");
  res.root_partuuid = DerivedUuid(spec.seed, "root-partition");
  res.root_fs_uuid = DerivedUuid(spec.seed, "root-fs");
  std::string esp_guid = DerivedUuid(spec.seed, "esp-partition");
  std::string tmp = out + ".partial";
  if (auto st = MakeSparse(tmp, spec.size_bytes); !st) return std::move(st).error();
  auto cleanup = [&](Error e) {
    fs::remove(tmp, ec);
    return e;
  };
  PartitionPlan parts = Layout(spec.size_bytes, spec);
  GptPartition esp_part{parts.esp_start, parts.esp_end, "fat32",
                        "ESP",           esp_guid,      {GptPartition::Flag::kEsp, GptPartition::Flag::kLegacyBoot}};
  GptPartition root_part{parts.root_start, parts.root_end, "ext4", "root", res.root_partuuid, {}};
  if (auto st = WriteGpt(tmp, {esp_part, root_part}, res.disk_guid); !st) return cleanup(std::move(st).error());

  // The ESP: boot loaders, kernel, initramfs and their configuration.
  std::string esp = work_dir + "/esp.img";
  EspSpec es;
  es.bytes = (parts.esp_end - parts.esp_start + 1) * kSector;
  es.seed = spec.seed;
  es.source_date_epoch = spec.source_date_epoch;
  es.kernel = spec.kernel;
  es.initrd = spec.initrd;
  es.cmdline = "root=PARTUUID=" + res.root_partuuid + " rw console=ttyS0,115200";
  for (const std::string& a : spec.kernel_args) es.cmdline += " " + a;
  es.uefi = spec.uefi;
  es.bios = spec.bios;
  if (auto st = MakeEsp(es, work_dir, esp); !st) return cleanup(std::move(st).error());

  Ext4Spec rs;
  rs.label = "root";
  rs.uuid = res.root_fs_uuid;
  rs.seed = spec.seed;
  rs.source_date_epoch = spec.source_date_epoch;
  rs.offset = parts.root_start * kSector;
  rs.bytes = (parts.root_end - parts.root_start + 1) * kSector;
  if (auto st = MakeExt4(rootfs, rs, work_dir, tmp); !st) return cleanup(std::move(st).error());
  if (auto st = CopyImageAt(esp, tmp, parts.esp_start * kSector); !st) return cleanup(std::move(st).error());
  if (spec.bios) {
    auto mbr = ReadFile(kGptMbr);
    if (!mbr) return cleanup(std::move(mbr).error().Context("BIOS boot code"));
    if (auto st = WriteAtDurably(tmp, 0, mbr->substr(0, std::min<size_t>(440, mbr->size()))); !st)
      return cleanup(std::move(st).error());
  }
  fs::remove(esp, ec);
  fs::rename(tmp, out, ec);
  if (ec) return cleanup(Error::Runtime("cannot rename " + tmp + " to " + out + ": " + ec.message()));
  return res;
}

}  // namespace slipway::builder
