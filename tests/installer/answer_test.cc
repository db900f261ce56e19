// Answer-file discovery order and host matching.
#include "installer/service/answer.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "installer/apply/seed_iso.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;
namespace fs = std::filesystem;

namespace {

const char* kFleet = R"(
[defaults]
hardware_profile = "standard"
clusters = ["dev"]
[defaults.network]
gateway = "10.0.0.1"

[[host]]
name = "by-mac"
mac = "02:FC:00:00:00:01"
[[host]]
name = "by-serial"
serial = "CZ2345ABCD"
hardware_profile = "large"
[[host]]
name = "by-uuid"
uuid = "4c4c4544-0042-3510-8052-b4c04f4b4e32"
clusters = ["prod"]
)";

Fleet ParseFleet(const std::string& text) {
  Diagnostics d;
  auto t = ParseTomlText(text, "fleet.toml", &d);
  REQUIRE(t);
  auto f = ReadFleet(*t, "fleet.toml", &d);
  REQUIRE(f);
  return *f;
}

HardwareReport Report(const std::string& mac, const std::string& serial, const std::string& uuid) {
  HardwareReport r;
  if (!mac.empty()) r.nics.push_back({"eth0", true, Probed<std::string>::Known(mac), {}, {}, {}, "up"});
  r.smbios.serial = serial.empty() ? Probed<std::string>::Unknown("none") : Probed<std::string>::Known(serial);
  r.smbios.uuid = uuid.empty() ? Probed<std::string>::Unknown("none") : Probed<std::string>::Known(uuid);
  return r;
}

}  // namespace

TEST_CASE("a host is matched by MAC, serial or UUID, with defaults under the entry") {
  Fleet f = ParseFleet(kFleet);
  auto m = MatchHost(f, Report("02:fc:00:00:00:01", "", ""));
  REQUIRE(m.ok());
  CHECK(m->host.name == "by-mac");
  CHECK(m->matched_by == "MAC 02:fc:00:00:00:01");
  CHECK(m->host.hardware_profile == "standard");  // from [defaults]
  CHECK(m->host.clusters == std::vector<std::string>{"dev"});
  CHECK(m->host.network.gateway->ToString() == "10.0.0.1");
  m = MatchHost(f, Report("aa:bb:cc:dd:ee:ff", "CZ2345ABCD", ""));
  REQUIRE(m.ok());
  CHECK(m->host.name == "by-serial");
  CHECK(m->host.hardware_profile == "large");  // the entry wins over [defaults]
  m = MatchHost(f, Report("", "", "4c4c4544-0042-3510-8052-b4c04f4b4e32"));
  REQUIRE(m.ok());
  CHECK(m->matched_by == "SMBIOS UUID 4c4c4544-0042-3510-8052-b4c04f4b4e32");
  CHECK(m->host.clusters == std::vector<std::string>{"prod"});
}

TEST_CASE("no matching entry lists this machine's identity, exit 3") {
  auto m = MatchHost(ParseFleet(kFleet), Report("aa:bb:cc:dd:ee:ff", "OTHER", ""));
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().code() == ExitCode::kHostUnsuitable);
  CHECK(m.error().ToString() ==
        "no [[host]] entry of fleet.toml matches this machine: MACs aa:bb:cc:dd:ee:ff, serial OTHER, UUID unknown "
        "(none); add an entry with one of them");
}

TEST_CASE("two entries matching one machine are refused") {
  auto m = MatchHost(ParseFleet(kFleet), Report("02:fc:00:00:00:01", "CZ2345ABCD", ""));
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().ToString() ==
        "fleet.toml: hosts 'by-mac' (MAC 02:fc:00:00:00:01) and 'by-serial' (serial CZ2345ABCD) both match this "
        "machine; keep one");
}

TEST_CASE("the answer file is found in order: cmdline, boot medium, SLIPWAY label, --answer") {
  testing::TempDir t;
  std::string root = t / "sysroot";
  testing::WriteText(t / "explicit.toml", "# explicit\n");
  fs::create_directories(root + "/proc/self");
  testing::WriteText(root + "/proc/cmdline", "console=ttyS0\n");
  testing::WriteText(root + "/proc/self/mountinfo", "27 1 254:0 / / rw - ext4 /dev/vda rw\n");
  Sysroot s(root);
  auto a = FindAnswerFile(s, "");
  REQUIRE(a.ok());
  CHECK(a->origin.empty());  // nothing anywhere
  a = FindAnswerFile(s, t / "explicit.toml");
  CHECK(a->origin == "--answer " + t / "explicit.toml");

  // A file system labelled SLIPWAY (an ISO9660 here), through /dev/disk/by-label.
  fs::create_directories(root + "/dev/disk/by-label");
  REQUIRE(WriteSeedIso(root + "/dev/sr1", "SLIPWAY", {{"slipway/answer.toml", "# from label\n"}}).ok());
  fs::create_symlink("../../sr1", root + "/dev/disk/by-label/SLIPWAY");
  a = FindAnswerFile(s, t / "explicit.toml");
  CHECK(a->origin == "file system labelled SLIPWAY (/dev/sr1, ISO9660)");
  CHECK(a->text == "# from label\n");

  // The boot medium beats the label.
  testing::WriteText(root + "/proc/self/mountinfo",
                     "27 1 254:0 / / rw - ext4 /dev/vda rw\n28 27 11:0 / /cdrom ro - iso9660 /dev/sr0 ro\n");
  testing::WriteText(root + "/cdrom/slipway/answer.toml", "# from medium\n");
  a = FindAnswerFile(s, "");
  CHECK(a->origin == "boot medium /cdrom/slipway/answer.toml");

  // The kernel command line beats everything.
  testing::WriteText(root + "/proc/cmdline", "console=ttyS0 slipway.answer=/etc/fleet.toml quiet\n");
  testing::WriteText(root + "/etc/fleet.toml", "# from cmdline\n");
  a = FindAnswerFile(s, t / "explicit.toml");
  CHECK(a->origin == "kernel command line slipway.answer=/etc/fleet.toml");
  CHECK(a->text == "# from cmdline\n");

  // A named file that is missing is an error, not a silent fall-through.
  testing::WriteText(root + "/proc/cmdline", "slipway.answer=/nope.toml\n");
  a = FindAnswerFile(s, "");
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().ToString() ==
        "answer file named on the kernel command line: cannot read /nope.toml: No such file or directory");
}
