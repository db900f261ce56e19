// Installer ISO staging.
#include "builder/installer_iso.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "builder/host_system.h"
#include "builder/iso_writer.h"
#include "builder/live_root.h"
#include "builder/staging.h"
#include "common/atomic_file.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "firmware/signed_boot.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

std::string NewestIn(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (StartsWith(e.path().filename().string(), prefix)) found.push_back(e.path().string());
  }
  std::sort(found.begin(), found.end());
  return found.empty() ? "" : fs::canonical(found.back(), ec).string();
}

// A copy with its mtime pinned, for mcopy -m into the ESP image.
Status PinnedCopy(const std::string& src, const std::string& dst, long epoch) {
  std::error_code ec;
  fs::create_directories(fs::path(dst).parent_path(), ec);
  fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec);
  if (ec) return Error::Runtime("cannot stage " + src + ": " + ec.message());
  auto t = std::chrono::file_clock::from_sys(std::chrono::system_clock::from_time_t(epoch));
  fs::last_write_time(dst, t, ec);
  return Ok();
}

// The UEFI boot path: an ESP image holding only the signed loaders, shim as
// \EFI\BOOT\BOOTX64.EFI and Debian's signed GRUB for CDs beside it. GRUB
// cannot read the El Torito image it came from, so its built-in config finds
// the ISO9660 volume by /.disk/info and reads /boot/grub/grub.cfg there; that
// file finds our own volume by its UUID and boots the kernel and initramfs
// the BIOS path boots too. No second copy of them in the ESP.
Status StageUefiBoot(const IsoSpec& iso, const std::string& cmdline, const std::string& stage, long epoch) {
  if (auto st = firmware::CheckSignedChain({firmware::kShim, firmware::kGrubCd}); !st) return st;
  std::error_code ec;
  uint64_t need = fs::file_size(firmware::kShim, ec) + fs::file_size(firmware::kGrubCd, ec) + (1ull << 20);
  uint64_t mib = (need >> 20) + 1;
  if (static_cast<int64_t>(mib) > iso.esp_max_mib) {
    return Error::Input("the UEFI boot image needs " + std::to_string(mib) + " MiB; [iso] esp_max_mib is " +
                        std::to_string(iso.esp_max_mib) + " (shim and GRUB are too big)");
  }
  firmware::GrubEntry entry{"Slipway installer", "/boot/vmlinuz", "/boot/initrd.img", cmdline,
                            firmware::GrubIsoUuid(epoch)};
  auto grub_cfg = firmware::GrubConfig(entry);
  if (!grub_cfg) return std::move(grub_cfg).error();
  std::error_code mk;
  fs::create_directories(stage + "/boot/grub", mk);
  fs::create_directories(stage + "/.disk", mk);
  if (auto st = WriteFileAtomic(stage + "/boot/grub/grub.cfg", *grub_cfg); !st) return st;
  if (auto st = WriteFileAtomic(stage + "/.disk/info", "Slipway installer " + iso.volume_id + "\n"); !st) return st;
  std::string esp = stage + "/boot/efi.img", pin = stage + ".esp";
  RunOptions ro;
  ro.env = {{"MTOOLS_SKIP_CHECK", "1"}, {"SOURCE_DATE_EPOCH", std::to_string(epoch)}, {"TZ", "UTC"}};
  std::vector<std::vector<std::string>> cmds = {{"truncate", "-s", std::to_string(mib) + "M", esp},
                                                {"mkfs.vfat", "-n", "SLIPWAYEFI", "-i", "5c1b0a7e", "--invariant", esp},
                                                {"mmd", "-i", esp, "::/EFI", "::/EFI/BOOT"}};
  for (auto [src, dst] : std::vector<std::pair<std::string, std::string>>{
           {firmware::kShim, "/EFI/BOOT/BOOTX64.EFI"}, {firmware::kGrubCd, "/EFI/BOOT/grubx64.efi"}}) {
    std::string pinned = pin + dst;
    if (auto st = PinnedCopy(src, pinned, epoch); !st) return st;
    cmds.push_back({"mcopy", "-m", "-o", "-i", esp, pinned, "::" + dst});
  }
  fs::create_directories(stage + "/boot", ec);
  for (const auto& c : cmds) {
    if (auto r = RunCommand(c, ro); !r) {
      fs::remove_all(pin, ec);
      return std::move(r).error();
    }
  }
  fs::remove_all(pin, ec);
  return Ok();
}

}  // namespace

Result<IsoBuildSummary> BuildInstallerIso(const ImageDefinition& def, const IsoBuildOptions& o) {
  if (!def.iso) return Error::Input(def.file + ": not an installer definition (role 'installer' with [iso])");
  const IsoSpec& iso = *def.iso;
  std::string stage = o.out + ".stage";
  std::error_code ec;
  fs::remove_all(stage, ec);
  auto fail = [&](Error e) {
    fs::remove_all(stage, ec);
    fs::remove_all(o.out + ".esp", ec);
    return e.Context("building " + o.out);
  };
  IsoBuildSummary summary;
  std::string kernel, initrd;
  if (!o.boot_dir.empty()) {
    // A kernel and initramfs given as they are: no live system is built.
    kernel = NewestIn(o.boot_dir, "vmlinuz"), initrd = NewestIn(o.boot_dir, "initrd.img");
    if (kernel.empty() || initrd.empty()) {
      return Error::Input("no vmlinuz* and initrd.img* in " + o.boot_dir + " (--boot)");
    }
    for (auto [src, dst] :
         std::vector<std::pair<std::string, std::string>>{{kernel, "/boot/vmlinuz"}, {initrd, "/boot/initrd.img"}}) {
      if (auto st = StageFile(src, stage + dst); !st) return fail(std::move(st).error());
    }
  } else {
    if (!def.live) return Error::Input(def.file + ": has no [live] section to build the live system from");
    LiveInputs in;
    in.kernel_root = o.kernel_root;
    in.data_dir = o.data_dir;
    in.slipway_programs = o.slipway_programs;
    in.medium_label = iso.volume_id;
    in.source_date_epoch = o.source_date_epoch;
    auto live = StageLiveSystem(*def.live, in, stage);
    if (!live) return fail(std::move(live).error());
    summary.live = *live;
  }
  kernel = stage + "/boot/vmlinuz", initrd = stage + "/boot/initrd.img";
  bool bios = std::find(iso.boot.begin(), iso.boot.end(), "bios") != iso.boot.end();
  bool uefi = std::find(iso.boot.begin(), iso.boot.end(), "uefi") != iso.boot.end();
  std::string cmdline = iso.kernel_cmdline;
  if (bios) {
    for (auto [src, dst] : std::vector<std::pair<std::string, std::string>>{
             {"/usr/lib/ISOLINUX/isolinux.bin", "/isolinux/isolinux.bin"},
             {"/usr/lib/syslinux/modules/bios/ldlinux.c32", "/isolinux/ldlinux.c32"}}) {
      if (auto st = StageFile(src, stage + dst); !st) return fail(std::move(st).error());
    }
    std::string cfg =
        "SERIAL 0 115200\nDEFAULT slipway\nTIMEOUT 0\nPROMPT 0\nLABEL slipway\n  KERNEL /boot/vmlinuz\n"
        "  APPEND initrd=/boot/initrd.img " +
        cmdline + "\n";
    if (auto st = WriteFileAtomic(stage + "/isolinux/isolinux.cfg", cfg); !st) return fail(std::move(st).error());
  }
  if (uefi) {
    if (auto st = StageUefiBoot(iso, cmdline, stage, o.source_date_epoch); !st) return fail(std::move(st).error());
  }
  if (iso.host_system && o.boot_dir.empty()) {
    // The host system for installs to a local disk, from the staged live
    // root, kernel and initramfs (the same ones the ISO boots). --boot
    // (boot-path tests) has no live root, so no host system either.
    auto host = StageHostSystem(stage, cmdline, iso.volume_id, o.source_date_epoch, uefi, bios);
    if (!host) return fail(std::move(host).error());
    summary.host_esp_bytes = host->esp_bytes;
    summary.host_system_bytes = host->system_bytes;
  }
  for (auto [src, dst] : std::vector<std::pair<std::string, std::string>>{
           {o.data_dir + "/profiles", "/profiles"},
           {o.data_dir + "/firmware/firmware.toml", "/firmware/firmware.toml"}}) {
    if (auto st = StageFile(src, stage + dst); !st) return fail(std::move(st).error());
  }
  if (!o.answer.empty()) {
    if (auto st = StageFile(o.answer, stage + "/slipway/answer.toml"); !st) return fail(std::move(st).error());
  }
  if (!o.images_dir.empty()) {
    if (auto st = StageFile(o.images_dir, stage + "/slipway/images"); !st) return fail(std::move(st).error());
  }
  IsoOptions io;
  io.volume_id = iso.volume_id;
  io.bios_boot = bios ? "isolinux/isolinux.bin" : "";
  io.efi_image = uefi ? "boot/efi.img" : "";
  io.isohybrid_mbr = bios ? "/usr/lib/ISOLINUX/isohdpfx.bin" : "";
  io.source_date_epoch = o.source_date_epoch;
  if (auto st = WriteIso(stage, io, o.out); !st) return fail(std::move(st).error());
  fs::remove_all(stage, ec);
  summary.iso_bytes = fs::file_size(o.out, ec);
  return summary;
}

}  // namespace slipway::builder
