// GPT writing (libparted), reproducible GUIDs and sparse image copies.
#include "common/gpt_disk.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <parted/parted.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/hash.h"

namespace slipway {

namespace {

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

Status PRead(int fd, void* buf, size_t n, uint64_t off, const std::string& path) {
  if (::pread(fd, buf, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n))
    return Error::Errno("cannot read", path, errno);
  return Ok();
}
Status PWrite(int fd, const void* buf, size_t n, uint64_t off, const std::string& path) {
  if (::pwrite(fd, buf, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n))
    return Error::Errno("cannot write", path, errno);
  return Ok();
}

// libparted draws random GUIDs; replace them with derived ones in both GPT
// copies and fix the CRCs, so that writes are reproducible.
Status FixGuids(const std::string& path, const std::string& disk_guid, const std::vector<std::string>& part_guids) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot open", path, errno);
  uint8_t hdr[kSectorBytes];
  Status st = PRead(fd, hdr, kSectorBytes, kSectorBytes, path);
  uint64_t backup_lba = Le64(hdr + 32);
  for (uint64_t lba : {uint64_t{1}, backup_lba}) {
    if (!st) break;
    st = PRead(fd, hdr, kSectorBytes, lba * kSectorBytes, path);
    if (!st) break;
    if (std::memcmp(hdr, "EFI PART", 8) != 0) {
      st = Error::Runtime("no GPT header at LBA " + std::to_string(lba) + " of " + path);
      break;
    }
    uint32_t hsize = Le32(hdr + 12), count = Le32(hdr + 80), esize = Le32(hdr + 84);
    uint64_t entries_lba = Le64(hdr + 72);
    std::vector<uint8_t> entries(static_cast<size_t>(count) * esize);
    st = PRead(fd, entries.data(), entries.size(), entries_lba * kSectorBytes, path);
    if (!st) break;
    for (size_t i = 0; i < part_guids.size() && i < count; ++i)
      GuidBytes(part_guids[i], entries.data() + i * esize + 16);
    GuidBytes(disk_guid, hdr + 56);
    Put32(hdr + 88, Crc32(entries.data(), entries.size()));
    Put32(hdr + 16, 0);
    Put32(hdr + 16, Crc32(hdr, hsize));
    st = PWrite(fd, entries.data(), entries.size(), entries_lba * kSectorBytes, path);
    if (st) st = PWrite(fd, hdr, kSectorBytes, lba * kSectorBytes, path);
  }
  if (st) {
    uint8_t zero[4] = {0, 0, 0, 0};  // the protective MBR's disk signature
    st = PWrite(fd, zero, 4, 440, path);
  }
  if (st && ::fsync(fd) != 0) st = Error::Errno("cannot fsync", path, errno);
  ::close(fd);
  return st;
}

PedPartitionFlag PedFlag(GptPartition::Flag f) {
  switch (f) {
    case GptPartition::Flag::kEsp:
      return PED_PARTITION_ESP;
    case GptPartition::Flag::kLegacyBoot:
      return PED_PARTITION_LEGACY_BOOT;
    case GptPartition::Flag::kBiosGrub:
      return PED_PARTITION_BIOS_GRUB;
  }
  return PED_PARTITION_ESP;
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

Status WriteGpt(const std::string& path, const std::vector<GptPartition>& parts, const std::string& disk_guid) {
  ped_exception_fetch_all();  // report through our errors, never interactively
  PedDevice* dev = ped_device_get(path.c_str());
  if (!dev) {
    ped_exception_leave_all();
    return Error::Runtime("libparted cannot open " + path);
  }
  PedDisk* disk = ped_disk_new_fresh(dev, ped_disk_type_get("gpt"));
  Status st = Ok();
  if (!disk) st = Error::Runtime("libparted cannot create a GPT on " + path);
  for (const GptPartition& p : parts) {
    if (!st) break;
    const PedFileSystemType* fs = p.fs_type.empty() ? nullptr : ped_file_system_type_get(p.fs_type.c_str());
    PedPartition* part = ped_partition_new(disk, PED_PARTITION_NORMAL, fs, static_cast<PedSector>(p.start),
                                           static_cast<PedSector>(p.end));
    PedConstraint* exact = part ? ped_constraint_exact(&part->geom) : nullptr;
    if (!part || !exact || !ped_disk_add_partition(disk, part, exact)) {
      st = Error::Runtime("libparted cannot add partition " + p.name + " (sectors " + std::to_string(p.start) + "-" +
                          std::to_string(p.end) + ") to " + path);
      if (exact) ped_constraint_destroy(exact);
      break;
    }
    ped_constraint_destroy(exact);
    ped_partition_set_name(part, p.name.c_str());
    for (GptPartition::Flag f : p.flags) ped_partition_set_flag(part, PedFlag(f), 1);
  }
  if (st && !ped_disk_commit_to_dev(disk)) st = Error::Runtime("libparted cannot write the GPT to " + path);
  if (disk) ped_disk_destroy(disk);
  ped_device_destroy(dev);
  ped_exception_leave_all();
  if (!st) return st;
  std::vector<std::string> guids;
  for (const GptPartition& p : parts) guids.push_back(p.guid);
  return FixGuids(path, disk_guid, guids);
}

Status CopyImageAt(const std::string& src, const std::string& dst, uint64_t offset, const std::string& sha256_hex,
                   bool dense, const std::function<void(uint64_t, uint64_t)>& progress) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Error::Errno("cannot open", src, errno);
  int out = ::open(dst.c_str(), O_WRONLY | O_CLOEXEC);
  if (out < 0) {
    int e = errno;
    ::close(in);
    return Error::Errno("cannot open", dst, e);
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool hashing = !sha256_hex.empty();
  bool every_byte = hashing || dense;
  if (hashing) EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr);
  off_t end = ::lseek(in, 0, SEEK_END);
  std::vector<char> buf(1 << 20);
  const std::vector<char> zeros(buf.size(), 0);
  Status st = Ok();
  off_t pos = 0;
  uint64_t last_report = 0;
  while (st && pos < end) {
    // With a hash to check, holes are read as zeros (they are part of the
    // image's bytes); without, they are skipped.
    off_t data = every_byte ? pos : ::lseek(in, pos, SEEK_DATA);
    if (data < 0) break;  // only a hole is left
    off_t hole = every_byte ? end : ::lseek(in, data, SEEK_HOLE);
    if (hole < 0) hole = end;
    for (off_t at = data; at < hole;) {
      size_t want = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(buf.size()), hole - at));
      ssize_t n = ::pread(in, buf.data(), want, at);
      if (n <= 0) {
        st = Error::Errno("cannot read", src, n == 0 ? EIO : errno);
        break;
      }
      if (hashing) EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(n));
      bool zero = !dense && std::memcmp(buf.data(), zeros.data(), static_cast<size_t>(n)) == 0;
      if (!zero && ::pwrite(out, buf.data(), static_cast<size_t>(n), static_cast<off_t>(offset) + at) != n) {
        st = Error::Errno("cannot write", dst, errno);
        break;
      }
      at += n;
      if (progress && static_cast<uint64_t>(at) - last_report >= (64ull << 20)) {
        last_report = static_cast<uint64_t>(at);
        progress(last_report, static_cast<uint64_t>(end));
      }
    }
    pos = hole;
  }
  ::close(in);
  ::close(out);
  if (st && hashing) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md.get(), digest, &len);
    std::string got = HexEncode(digest, len);
    if (got != sha256_hex) {
      return Error::Runtime(src + " has sha256 " + got + ", its manifest says " + sha256_hex +
                            ": the image is damaged; use another copy of the medium");
    }
  }
  return st;
}

Status WriteAtDurably(const std::string& path, uint64_t offset, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot open", path, errno);
  Status st = PWrite(fd, data.data(), data.size(), offset, path);
  if (st && ::fsync(fd) != 0) st = Error::Errno("cannot fsync", path, errno);
  ::close(fd);
  return st;
}

Status ZeroRange(const std::string& path, uint64_t offset, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot open", path, errno);
  const std::vector<char> zeros(1 << 20, 0);
  Status st = Ok();
  for (uint64_t done = 0; st && done < bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), bytes - done));
    st = PWrite(fd, zeros.data(), n, offset + done, path);
    done += n;
  }
  if (st && ::fsync(fd) != 0) st = Error::Errno("cannot fsync", path, errno);
  ::close(fd);
  return st;
}

Result<uint64_t> DeviceBytes(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot open", path, errno);
  struct stat sb {};
  uint64_t bytes = 0;
  int r = ::fstat(fd, &sb);
  if (r == 0 && S_ISBLK(sb.st_mode)) {
    r = ::ioctl(fd, BLKGETSIZE64, &bytes);
  } else if (r == 0) {
    bytes = static_cast<uint64_t>(sb.st_size);
  }
  int e = errno;
  ::close(fd);
  if (r != 0) return Error::Errno("cannot size", path, e);
  return bytes;
}

}  // namespace slipway
