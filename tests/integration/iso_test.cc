// The installer ISO: El Torito entries (xorriso is the oracle), contents read
// back with libarchive, reproducibility, and the ESP size limit.
#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "common/hash.h"
#include "test_util.h"

using namespace slipway;
namespace fs = std::filesystem;

namespace {

// `definition` is images/installer.toml unless given.
std::string BuildIso(const testing::TempDir& t, const std::string& name, std::string definition = "") {
  if (definition.empty()) definition = testing::SourceDir() + "/images/installer.toml";
  testing::WriteText(t / "boot/vmlinuz-6.1.0-test", std::string(300000, 'K'));
  testing::WriteText(t / "boot/initrd.img-6.1.0-test", std::string(200000, 'I'));
  auto r = testing::Run("cd " + testing::SourceDir() + " && SOURCE_DATE_EPOCH=1700000000 " + testing::Slipway() +
                        " build iso " + definition + " --out " + t / name + " --boot " + t / "boot" + " --answer " +
                        testing::SourceDir() + "/profiles/fleet/lab.toml");
  INFO(r.out << r.err);
  return r.exit_code == 0 ? t / name : r.err;
}

}  // namespace

TEST_CASE("the installer ISO has BIOS and UEFI El Torito entries, as xorriso reports") {
  testing::TempDir t;
  std::string iso = BuildIso(t, "a.iso");
  REQUIRE(fs::exists(iso));
  auto r = testing::Run("xorriso -indev " + iso + " -report_el_torito plain");
  INFO(r.out << r.err);
  CHECK(r.out.find("El Torito boot img :   1  BIOS  y   none") != std::string::npos);
  CHECK(r.out.find("El Torito boot img :   2  UEFI  y   none") != std::string::npos);
  CHECK(r.out.find("/isolinux/isolinux.bin") != std::string::npos);
  CHECK(r.out.find("/boot/efi.img") != std::string::npos);
  auto sysarea = testing::Run("xorriso -indev " + iso + " -report_system_area plain");
  CHECK(sysarea.out.find("MBR") != std::string::npos);  // isohybrid: bootable from a USB stick
}

TEST_CASE("the ISO's files read back with libarchive, with Rock Ridge names") {
  testing::TempDir t;
  std::string iso = BuildIso(t, "a.iso");
  auto files = testing::ReadIsoFiles(iso);
  std::set<std::string> names;
  for (const auto& [name, body] : files) names.insert(name);
  std::string answer = files["slipway/answer.toml"];
  for (const char* f :
       {"boot/vmlinuz", "boot/initrd.img", "boot/efi.img", "isolinux/isolinux.bin", "isolinux/isolinux.cfg",
        "profiles/vm-sizes.toml", "profiles/hardware/standard.toml", "firmware/firmware.toml"}) {
    CHECK(names.count(f));
  }
  CHECK(answer == testing::ReadText(testing::SourceDir() + "/profiles/fleet/lab.toml"));
  // UEFI: GRUB finds the volume by /.disk/info, then ours by its UUID (from
  // SOURCE_DATE_EPOCH 1700000000), and boots the same kernel as isolinux.
  CHECK(names.count(".disk/info"));
  const std::string& grub = files["boot/grub/grub.cfg"];
  INFO(grub);
  CHECK(grub.find("search --no-floppy --fs-uuid --set=root 2023-11-14-22-13-20-00\n") != std::string::npos);
  CHECK(grub.find("  linux /boot/vmlinuz console=ttyS0,115200 slipway.mode=auto\n  initrd /boot/initrd.img\n") !=
        std::string::npos);
  CHECK(grub.find("set timeout=0") != std::string::npos);
  // GRUB's own idea of the volume's UUID (grub-probe, GRUB's iso9660 driver)
  // is the one grub.cfg searches for.
  auto probe = testing::Run("grub-probe -t fs_uuid -d " + iso);
  INFO(probe.out << probe.err);
  CHECK(probe.out == "2023-11-14-22-13-20-00\n");
}

TEST_CASE("the ISO's ESP holds shim and Debian's signed GRUB for CDs, as the packages ship them") {
  testing::TempDir t;
  std::string iso = BuildIso(t, "a.iso");
  auto files = testing::ReadIsoFiles(iso);
  testing::WriteText(t / "esp.img", files["boot/efi.img"]);
  CHECK(files["boot/efi.img"].size() <= (8u << 20));  // the loaders only; the kernel is on the ISO9660 side
  auto dir = testing::Run("MTOOLS_SKIP_CHECK=1 mdir -/ -a -b -i " + t / "esp.img" + " ::");
  INFO(dir.out << dir.err);
  CHECK(dir.out.find("::/EFI/BOOT/BOOTX64.EFI") != std::string::npos);
  CHECK(dir.out.find("::/EFI/BOOT/grubx64.efi") != std::string::npos);
  CHECK(dir.out.find("vmlinuz") == std::string::npos);
  for (auto [esp_file, package_file] :
       {std::pair{"::/EFI/BOOT/BOOTX64.EFI", "/usr/lib/shim/shimx64.efi.signed"},
        std::pair{"::/EFI/BOOT/grubx64.efi", "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed"}}) {
    auto copy = testing::Run("MTOOLS_SKIP_CHECK=1 mcopy -i " + t / "esp.img" + " " + esp_file + " " + t / "l.efi" +
                             " && cmp " + t / "l.efi" + " " + package_file + " && rm " + t / "l.efi");
    INFO(esp_file << copy.out << copy.err);
    CHECK(copy.exit_code == 0);
  }
}

TEST_CASE("two ISO builds of the same inputs are byte-identical") {
  testing::TempDir t;
  std::string a = BuildIso(t, "a.iso"), b = BuildIso(t, "b.iso");
  REQUIRE((fs::exists(a) && fs::exists(b)));
  INFO(testing::Run("cmp -l " + a + " " + b + " | head -5; xorriso -indev " + a +
                    " -find / -exec lsdl 2>/dev/null | head -3")
           .out);
  CHECK(*Sha256File(a) == *Sha256File(b));
}

TEST_CASE("a UEFI boot image over esp_max_mib is refused and no ISO is left") {
  testing::TempDir t;
  std::string def = testing::ReadText(testing::SourceDir() + "/images/installer.toml");
  size_t at = def.find("esp_max_mib = 32");
  REQUIRE(at != std::string::npos);
  def.replace(at, 16, "esp_max_mib = 4");
  testing::WriteText(t / "small-esp.toml", def);
  std::string err = BuildIso(t, "big.iso", t / "small-esp.toml");
  CHECK(err.find("MiB; [iso] esp_max_mib is 4 (shim and GRUB are too big)") != std::string::npos);
  CHECK_FALSE(fs::exists(t / "big.iso"));
  CHECK_FALSE(fs::exists(t / "big.iso.partial"));
}
