// Where the persistent paths live, read from mountinfo as the live system
// shows it (installer/live/init's binds), with exact descriptions.
#include "installer/detect/kept_paths.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

// The live root's overlay (its upper layer on stage 1's tmpfs) and the CSV.
constexpr const char* kLiveRoot =
    "22 1 0:30 / / rw,relatime - overlay overlay "
    "rw,lowerdir=/run/medium/live,upperdir=/run/rw/upper,workdir=/run/rw/work\n"
    "40 22 253:48 / /ClusterStorage/Volume1 rw,relatime - ext4 /dev/vdd rw\n";

std::vector<KeptPath> Kept(const std::string& mountinfo, const std::vector<Csv>& csvs) {
  static testing::TempDir dir;
  std::filesystem::create_directories(dir / "proc/self");
  testing::WriteText(dir / "proc/self/mountinfo", mountinfo);
  return WhereKept(Sysroot(dir.path()), csvs);
}

const KeptPath& Find(const std::vector<KeptPath>& kept, const std::string& path) {
  for (const KeptPath& k : kept) {
    if (k.path == path) return k;
  }
  FAIL("no entry for " << path);
  throw;
}

std::vector<Csv> OneCsv() {
  Csv c;
  c.path = "/ClusterStorage/Volume1";
  return {c};
}

}  // namespace

TEST_CASE("a live-installed host keeps its state and vTPMs on the CSV, and libvirt's definitions in RAM") {
  auto kept = Kept(std::string(kLiveRoot) +
                       "41 22 253:48 /slipway-hosts/5e1f /var/lib/slipway rw,relatime - ext4 /dev/vdd rw\n"
                       "42 22 253:48 /slipway-hosts/5e1f/swtpm /var/lib/libvirt/swtpm rw,relatime - ext4 /dev/vdd rw\n",
                   OneCsv());
  REQUIRE(kept.size() == 3);
  CHECK(Find(kept, "/var/lib/slipway").Describe() == "on CSV /ClusterStorage/Volume1, folder /slipway-hosts/5e1f");
  CHECK(Find(kept, "/var/lib/libvirt/swtpm").Describe() ==
        "on CSV /ClusterStorage/Volume1, folder /slipway-hosts/5e1f/swtpm");
  const KeptPath& etc = Find(kept, "/etc/libvirt");
  CHECK(etc.on == KeptOn::kRam);
  CHECK(!etc.SurvivesReboot());
  CHECK(etc.Describe() == "in RAM (overlay): lost at reboot");
}

TEST_CASE("a bind that did not take shows: the vTPM folder then lies in the RAM overlay") {
  auto kept = Kept(
      std::string(kLiveRoot) + "41 22 253:48 /slipway-hosts/5e1f /var/lib/slipway rw,relatime - ext4 /dev/vdd rw\n",
      OneCsv());
  CHECK(Find(kept, "/var/lib/libvirt/swtpm").on == KeptOn::kRam);
  CHECK(Find(kept, "/var/lib/slipway").on == KeptOn::kCsv);
}

TEST_CASE("a host booted from its disk keeps libvirt's definitions on the data partition") {
  auto kept = Kept(std::string(kLiveRoot) +
                       "30 22 253:5 / /run/slipway/data rw,relatime - ext4 /dev/vda5 rw\n"
                       "31 22 253:5 /etc/libvirt /etc/libvirt rw,relatime - ext4 /dev/vda5 rw\n"
                       "32 22 253:5 /var/lib/libvirt /var/lib/libvirt rw,relatime - ext4 /dev/vda5 rw\n"
                       "41 22 253:48 /slipway-hosts/5e1f /var/lib/slipway rw,relatime - ext4 /dev/vdd rw\n",
                   OneCsv());
  const KeptPath& etc = Find(kept, "/etc/libvirt");
  CHECK(etc.on == KeptOn::kDevice);
  CHECK(etc.SurvivesReboot());
  CHECK(etc.Describe() == "on /dev/vda5 (ext4), folder /etc/libvirt");
  // Below a bind: the folder within the file system is the bind's root plus
  // the rest of the path.
  CHECK(Find(kept, "/var/lib/libvirt/swtpm").Describe() == "on /dev/vda5 (ext4), folder /var/lib/libvirt/swtpm");
}

TEST_CASE("an overlay that is not the live system's, and no mountinfo at all, are not called RAM") {
  auto kept = Kept("22 1 0:30 / / rw - overlay overlay rw,lowerdir=/a,upperdir=/srv/upper,workdir=/srv/work\n", {});
  CHECK(Find(kept, "/etc/libvirt").on == KeptOn::kDevice);
  CHECK(Find(kept, "/etc/libvirt").Describe() == "on overlay (overlay), folder /etc/libvirt");
  auto none = Kept("", {});
  CHECK(Find(none, "/var/lib/slipway").on == KeptOn::kUnknown);
  CHECK(Find(none, "/var/lib/slipway").Describe() == "unknown (no mount holds it)");
}
