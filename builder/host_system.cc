// Host system staging for the installer ISO.
#include "builder/host_system.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "builder/disk.h"
#include "common/atomic_file.h"
#include "common/gpt_disk.h"
#include "common/hash.h"
#include "common/host_system.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

constexpr const char* kGptMbr = "/usr/lib/SYSLINUX/gptmbr.bin";

uint64_t RoundUp(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

// What the tree needs in ext4: each file in 4 KiB blocks plus an inode.
uint64_t TreeBytes(const std::string& root) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    bytes += 256;
    if (it->is_regular_file() && !it->is_symlink()) bytes += RoundUp(it->file_size(ec), 4096);
  }
  return bytes;
}

Result<HostImageFile> Described(const std::string& dir, const std::string& name) {
  auto sha = Sha256File(dir + "/" + name);
  if (!sha) return std::move(sha).error();
  std::error_code ec;
  return HostImageFile{name, fs::file_size(dir + "/" + name, ec), *sha};
}

}  // namespace

Result<HostSystemSummary> StageHostSystem(const std::string& stage, const std::string& cmdline, const std::string& seed,
                                          long epoch, bool uefi, bool bios) {
  std::string dir = stage + "/" + kHostSystemDir, work = stage + ".host";
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::create_directories(dir, ec);
  fs::create_directories(work, ec);
  auto fail = [&](Error e) {
    fs::remove_all(work, ec);
    return std::move(e).Context("staging the host system in " + dir);
  };
  HostSystemManifest m;
  m.cmdline = cmdline.empty() ? kBootFromDiskArg : cmdline + " " + kBootFromDiskArg;
  HostSystemSummary sum;

  // The ESP: loaders, kernel and initramfs, with room to spare (FAT32 needs
  // at least 33 MiB).
  EspSpec es;
  es.seed = seed + ":host-esp";
  es.source_date_epoch = epoch;
  es.kernel = stage + "/boot/vmlinuz";
  es.initrd = stage + "/boot/initrd.img";
  es.cmdline = m.cmdline;
  es.title = "Slipway host";
  es.uefi = uefi;
  es.bios = bios;
  uint64_t need = fs::file_size(es.kernel, ec) + fs::file_size(es.initrd, ec) + (16ull << 20);
  if (ec) return fail(Error::Runtime("no kernel or initramfs in " + stage + "/boot: " + ec.message()));
  es.bytes = std::max<uint64_t>(48 * kMiB, RoundUp(need, kMiB));
  if (auto st = MakeEsp(es, work, dir + "/" + kHostEspImage); !st) return fail(std::move(st).error());

  // System A's image: the live root as an ext4 file system, a quarter free.
  Ext4Spec xs;
  xs.label = kSystemLabel;
  xs.seed = seed + ":host-system";
  xs.uuid = DerivedUuid(xs.seed, "system-fs");
  xs.source_date_epoch = epoch;
  xs.bytes = RoundUp(TreeBytes(stage + "/live") * 5 / 4 + 32 * kMiB, 16 * kMiB);
  std::string img = dir + "/" + kHostSystemImage;
  {
    std::FILE* f = std::fopen(img.c_str(), "w");
    if (!f) return fail(Error::Errno("cannot create", img, errno));
    std::fclose(f);
    fs::resize_file(img, xs.bytes, ec);
    if (ec) return fail(Error::Runtime("cannot size " + img + ": " + ec.message()));
  }
  if (auto st = MakeExt4(stage + "/live", xs, work, img); !st) return fail(std::move(st).error());
  m.system_uuid = xs.uuid;

  auto mbr = ReadFile(kGptMbr);
  if (!mbr) return fail(std::move(mbr).error().Context("BIOS boot code of the host disk"));
  if (auto st = WriteFileAtomic(dir + "/" + kHostMbrCode, mbr->substr(0, std::min<size_t>(440, mbr->size()))); !st)
    return fail(std::move(st).error());
  for (auto [file, name] :
       {std::pair{&m.esp, kHostEspImage}, std::pair{&m.system, kHostSystemImage}, std::pair{&m.mbr, kHostMbrCode}}) {
    auto d = Described(dir, name);
    if (!d) return fail(std::move(d).error());
    *file = *d;
  }
  if (auto st = WriteHostSystemManifest(dir, m); !st) return fail(std::move(st).error());
  // Their mtimes, like every file on the ISO, are the build's epoch.
  auto t = std::chrono::file_clock::from_sys(std::chrono::system_clock::from_time_t(epoch));
  for (const char* name : {kHostEspImage, kHostSystemImage, kHostMbrCode, kHostSystemManifest})
    fs::last_write_time(dir + "/" + name, t, ec);
  fs::remove_all(work, ec);
  sum.esp_bytes = m.esp.bytes;
  sum.system_bytes = m.system.bytes;
  return sum;
}

}  // namespace slipway::builder
