// Disk image assembly.
#include "builder/disk.h"

#include <fcntl.h>
#include <parted/parted.h>
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
#include "common/hash.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "firmware/signed_boot.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSector = 512;
constexpr uint64_t kAlign = 1ull << 20;  // partitions start on MiB boundaries
constexpr const char* kGptMbr = "/usr/lib/SYSLINUX/gptmbr.bin";

// GUIDs are stored mixed-endian in GPT.
void GuidBytes(const std::string& uuid, uint8_t out[16]) {
  std::string hex;
  for (char c : uuid) {
    if (c != '-') hex += c;
  }
  uint8_t b[16];
  for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(std::stoi(hex.substr(i * 2, 2), nullptr, 16));
  const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; ++i) out[i] = b[order[i]];
}

uint32_t Le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; }
uint64_t Le64(const uint8_t* p) { return Le32(p) | static_cast<uint64_t>(Le32(p + 4)) << 32; }
void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

Status PRead(int fd, void* buf, size_t n, uint64_t off) {
  if (::pread(fd, buf, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n))
    return Error::Errno("cannot read", "disk image", errno);
  return Ok();
}
Status PWrite(int fd, const void* buf, size_t n, uint64_t off) {
  if (::pwrite(fd, buf, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n))
    return Error::Errno("cannot write", "disk image", errno);
  return Ok();
}

// libparted draws random GUIDs; replace them with derived ones in both GPT
// copies and fix the CRCs, so that builds are reproducible.
Status FixGuids(const std::string& path, const std::string& disk_guid, const std::vector<std::string>& part_guids) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot open", path, errno);
  uint8_t hdr[kSector];
  Status st = PRead(fd, hdr, kSector, kSector);
  uint64_t backup_lba = Le64(hdr + 32);
  for (uint64_t lba : {uint64_t{1}, backup_lba}) {
    if (!st) break;
    st = PRead(fd, hdr, kSector, lba * kSector);
    if (!st) break;
    if (std::memcmp(hdr, "EFI PART", 8) != 0) {
      st = Error::Runtime("no GPT header at LBA " + std::to_string(lba) + " of " + path);
      break;
    }
    uint32_t hsize = Le32(hdr + 12), count = Le32(hdr + 80), esize = Le32(hdr + 84);
    uint64_t entries_lba = Le64(hdr + 72);
    std::vector<uint8_t> entries(static_cast<size_t>(count) * esize);
    st = PRead(fd, entries.data(), entries.size(), entries_lba * kSector);
    if (!st) break;
    for (size_t i = 0; i < part_guids.size() && i < count; ++i)
      GuidBytes(part_guids[i], entries.data() + i * esize + 16);
    GuidBytes(disk_guid, hdr + 56);
    Put32(hdr + 88, Crc32(entries.data(), entries.size()));
    Put32(hdr + 16, 0);
    Put32(hdr + 16, Crc32(hdr, hsize));
    st = PWrite(fd, entries.data(), entries.size(), entries_lba * kSector);
    if (st) st = PWrite(fd, hdr, kSector, lba * kSector);
  }
  if (st) {
    uint8_t zero[4] = {0, 0, 0, 0};  // the protective MBR's disk signature
    st = PWrite(fd, zero, 4, 440);
  }
  if (st && ::fsync(fd) != 0) st = Error::Errno("cannot fsync", path, errno);
  ::close(fd);
  return st;
}

struct PartitionPlan {
  uint64_t esp_start, esp_end, root_start, root_end;  // sectors, inclusive ends
};

Result<PartitionPlan> Partition(const std::string& path, const DiskBuild& spec) {
  ped_exception_fetch_all();  // report through our errors, never interactively
  PedDevice* dev = ped_device_get(path.c_str());
  if (!dev) return Error::Runtime("libparted cannot open " + path);
  PartitionPlan p;
  p.esp_start = kAlign / kSector;
  p.esp_end = p.esp_start + spec.esp_bytes / kSector - 1;
  p.root_start = p.esp_end + 1;
  uint64_t last_usable = static_cast<uint64_t>(dev->length) - 34;
  p.root_end = (last_usable + 1) / (kAlign / kSector) * (kAlign / kSector) - 1;
  PedDisk* disk = ped_disk_new_fresh(dev, ped_disk_type_get("gpt"));
  Status st = Ok();
  if (!disk) st = Error::Runtime("libparted cannot create a GPT on " + path);
  PedConstraint* exact = nullptr;
  auto add = [&](uint64_t start, uint64_t end, const char* fstype, const char* name) -> PedPartition* {
    PedPartition* part = ped_partition_new(disk, PED_PARTITION_NORMAL, ped_file_system_type_get(fstype),
                                           static_cast<PedSector>(start), static_cast<PedSector>(end));
    PedGeometry* geom = part ? &part->geom : nullptr;
    exact = geom ? ped_constraint_exact(geom) : nullptr;
    if (!part || !exact || !ped_disk_add_partition(disk, part, exact)) {
      st = Error::Runtime(std::string("libparted cannot add partition ") + name + " to " + path);
      return nullptr;
    }
    ped_constraint_destroy(exact);
    ped_partition_set_name(part, name);
    return part;
  };
  if (st) {
    if (PedPartition* esp = add(p.esp_start, p.esp_end, "fat32", "ESP")) {
      ped_partition_set_flag(esp, PED_PARTITION_ESP, 1);
      ped_partition_set_flag(esp, PED_PARTITION_LEGACY_BOOT, 1);
    }
  }
  if (st) add(p.root_start, p.root_end, "ext4", "root");
  if (st && !ped_disk_commit_to_dev(disk)) st = Error::Runtime("libparted cannot write the GPT to " + path);
  if (disk) ped_disk_destroy(disk);
  ped_device_destroy(dev);
  ped_exception_leave_all();
  if (!st) return std::move(st).error();
  return p;
}

// Copies `src` into `dst` at byte `offset`. Holes (SEEK_DATA/SEEK_HOLE) and
// all-zero blocks are skipped, so the result stays sparse and empty space is
// never read.
Status CopyAt(const std::string& src, const std::string& dst, uint64_t offset) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Error::Errno("cannot open", src, errno);
  int out = ::open(dst.c_str(), O_WRONLY | O_CLOEXEC);
  if (out < 0) {
    ::close(in);
    return Error::Errno("cannot open", dst, errno);
  }
  off_t end = ::lseek(in, 0, SEEK_END);
  std::vector<char> buf(1 << 20);
  Status st = Ok();
  off_t pos = 0;
  while (st && pos < end) {
    off_t data = ::lseek(in, pos, SEEK_DATA);
    if (data < 0) break;  // only a hole is left
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0) hole = end;
    for (off_t at = data; at < hole;) {
      size_t want = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(buf.size()), hole - at));
      ssize_t n = ::pread(in, buf.data(), want, at);
      if (n <= 0) {
        st = Error::Errno("cannot read", src, errno);
        break;
      }
      bool zero = std::all_of(buf.begin(), buf.begin() + n, [](char c) { return c == 0; });
      if (!zero && ::pwrite(out, buf.data(), static_cast<size_t>(n), static_cast<off_t>(offset) + at) != n) {
        st = Error::Errno("cannot write", dst, errno);
        break;
      }
      at += n;
    }
    pos = hole;
  }
  ::close(in);
  ::close(out);
  return st;
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

}  // namespace

uint32_t Crc32(const uint8_t* data, size_t n) {
  static uint32_t table[256] = {0};
  if (table[1] == 0) {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
  }
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string DerivedUuid(const std::string& seed, const std::string& purpose) {
  return NameUuid("disk:" + seed + ":" + purpose);
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
  std::string vol_id = Sha256Hex(spec.seed + ":esp").substr(0, 8);
  // e2fsprogs 1.47.0 reads E2FSPROGS_FAKE_TIME=0 as unset and stamps the
  // superblock and its special inodes with the wall clock: use 1 for epoch 0.
  std::map<std::string, std::string> env = {
      {"SOURCE_DATE_EPOCH", std::to_string(spec.source_date_epoch)},
      {"E2FSPROGS_FAKE_TIME", std::to_string(std::max<long>(1, spec.source_date_epoch))},
      {"MTOOLS_SKIP_CHECK", "1"},
      {"TZ", "UTC"}};
  RunOptions ro;
  ro.env = env;
  std::string tmp = out + ".partial";
  if (auto st = MakeSparse(tmp, spec.size_bytes); !st) return std::move(st).error();
  auto cleanup = [&](Error e) {
    fs::remove(tmp, ec);
    return e;
  };
  auto parts = Partition(tmp, spec);
  if (!parts) return cleanup(std::move(parts).error());
  if (auto st = FixGuids(tmp, res.disk_guid, {esp_guid, res.root_partuuid}); !st) return cleanup(std::move(st).error());

  // The ESP: boot loaders, kernel, initramfs and their configuration.
  std::string esp = work_dir + "/esp.img";
  uint64_t esp_bytes = (parts->esp_end - parts->esp_start + 1) * kSector;
  if (auto st = MakeSparse(esp, esp_bytes); !st) return cleanup(std::move(st).error());
  auto run = [&](std::vector<std::string> argv) -> Status {
    auto r = RunCommand(argv, ro);
    if (!r) return std::move(r).error();
    return Ok();
  };
  if (auto st = run({"mkfs.vfat", "-F", "32", "-n", "ESP", "-i", vol_id, "--invariant", esp}); !st)
    return cleanup(std::move(st).error());
  std::string cmdline = "root=PARTUUID=" + res.root_partuuid + " rw console=ttyS0,115200";
  for (const std::string& a : spec.kernel_args) cmdline += " " + a;
  std::string cfg = work_dir + "/cfg";
  fs::create_directories(cfg + "/EFI/debian", ec);
  // UEFI: shim, then Debian's signed GRUB, whose prefix is \EFI\debian on the
  // ESP it was loaded from; the kernel and initramfs are on the same ESP.
  auto grub_cfg = firmware::GrubConfig({"Slipway", "/vmlinuz", "/initrd.img", cmdline, ""});
  if (!grub_cfg) return cleanup(std::move(grub_cfg).error());
  if (spec.uefi) {
    if (auto st = firmware::CheckSignedChain({firmware::kShim, firmware::kGrubDisk}); !st)
      return cleanup(std::move(st).error());
  }
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"/EFI/debian/grub.cfg", *grub_cfg},
           {"/syslinux.cfg",
            "SERIAL 0 115200\nDEFAULT slipway\nTIMEOUT 0\nPROMPT 0\nLABEL slipway\n"
            "  LINUX /vmlinuz\n  INITRD /initrd.img\n  APPEND " +
                cmdline + "\n"}}) {
    if (auto st = WriteFileAtomic(cfg + name, text); !st) return cleanup(std::move(st).error());
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
  std::string img = "-i" + esp;
  std::vector<std::pair<std::string, std::string>> files = {{pinned(spec.kernel, "vmlinuz"), "::/vmlinuz"},
                                                            {pinned(spec.initrd, "initrd.img"), "::/initrd.img"}};
  if (spec.uefi) {
    if (auto st = run({"mmd", img, "::/EFI", "::/EFI/BOOT", "::/EFI/debian"}); !st)
      return cleanup(std::move(st).error());
    files.push_back({pinned(firmware::kShim, "BOOTX64.EFI"), "::/EFI/BOOT/BOOTX64.EFI"});
    files.push_back({pinned(firmware::kGrubDisk, "grubx64.efi"), "::/EFI/BOOT/grubx64.efi"});
    files.push_back({pinned(cfg + "/EFI/debian/grub.cfg", "EFI/debian/grub.cfg"), "::/EFI/debian/grub.cfg"});
  }
  if (spec.bios) files.push_back({pinned(cfg + "/syslinux.cfg", "syslinux.cfg"), "::/syslinux.cfg"});
  for (const auto& [src, dst] : files) {
    if (auto st = run({"mcopy", "-m", "-o", img, src, dst}); !st) return cleanup(std::move(st).error());
  }
  if (spec.bios) {
    if (auto st = run({"syslinux", "--install", esp}); !st) return cleanup(std::move(st).error());
  }

  // The root file system, straight from the tree, written by mkfs.ext4 into
  // its partition of the disk (-E offset): no second copy of the data.
  uint64_t root_offset = parts->root_start * kSector;
  uint64_t root_bytes = (parts->root_end - parts->root_start + 1) * kSector;
  std::string root = tmp + "?offset=" + std::to_string(root_offset);  // e2fsprogs' unix_io syntax
  std::string hash_seed = DerivedUuid(spec.seed, "ext4-hash-seed");
  if (auto st = run({"mkfs.ext4", "-q", "-F", "-L", "root", "-U", res.root_fs_uuid, "-E",
                     "hash_seed=" + hash_seed + ",root_owner=0:0,nodiscard,offset=" + std::to_string(root_offset), "-d",
                     rootfs, tmp, std::to_string(root_bytes / 1024) + "k"});
      !st) {
    return cleanup(std::move(st).error());
  }
  // mkfs.ext4 -d copies each file's times, and ctime cannot be set on the
  // tree (whose files may be the source's own, hard-linked): pin every time
  // afterwards with debugfs, so builds are reproducible. `sif PATH` follows a
  // final symlink, so symlinks are addressed by inode number, found with `ls -p`.
  {
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
    if (auto st = WriteFileAtomic(list_file, listing); !st) return cleanup(std::move(st).error());
    auto listed = RunCommand({"debugfs", "-f", list_file, root}, ro);
    if (!listed) return cleanup(std::move(listed).error());
    // Lines look like "/12/120777/0/0/sh/7/".
    for (const std::string& line : Split(listed->out, '\n')) {
      auto f = Split(line, '/');
      if (f.size() >= 4 && StartsWith(f[2], "120")) script += pin("<" + f[1] + ">");
    }
    std::string file = work_dir + "/pin-times.debugfs";
    if (auto st = WriteFileAtomic(file, script); !st) return cleanup(std::move(st).error());
    if (auto st = run({"debugfs", "-w", "-f", file, root}); !st) return cleanup(std::move(st).error());
  }
  if (auto st = CopyAt(esp, tmp, parts->esp_start * kSector); !st) return cleanup(std::move(st).error());
  if (spec.bios) {
    auto mbr = ReadFile(kGptMbr);
    if (!mbr) return cleanup(std::move(mbr).error().Context("BIOS boot code"));
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CLOEXEC);
    Status st = PWrite(fd, mbr->data(), std::min<size_t>(440, mbr->size()), 0);
    ::fsync(fd);
    ::close(fd);
    if (!st) return cleanup(std::move(st).error());
  }
  fs::remove(esp, ec);
  fs::rename(tmp, out, ec);
  if (ec) return cleanup(Error::Runtime("cannot rename " + tmp + " to " + out + ": " + ec.message()));
  return res;
}

}  // namespace slipway::builder
