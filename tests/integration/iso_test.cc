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

std::string BuildIso(const testing::TempDir& t, const std::string& name, size_t kernel_bytes = 300000) {
  testing::WriteText(t / "boot/vmlinuz-6.1.0-test", std::string(kernel_bytes, 'K'));
  testing::WriteText(t / "boot/initrd.img-6.1.0-test", std::string(200000, 'I'));
  auto r = testing::Run("SOURCE_DATE_EPOCH=1700000000 " + testing::Slipway() + " build iso " + testing::SourceDir() +
                        "/images/installer.toml --out " + t / name + " --boot " + t / "boot" + " --answer " +
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
  std::string err = BuildIso(t, "big.iso", 40u << 20);
  CHECK(err.find("[iso] esp_max_mib is 32") != std::string::npos);
  CHECK_FALSE(fs::exists(t / "big.iso"));
  CHECK_FALSE(fs::exists(t / "big.iso.partial"));
}
