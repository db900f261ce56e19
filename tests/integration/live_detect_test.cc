// Detection on the machine the tests run on, checked against the system's
// own tools (lsblk, ip, /proc/meminfo) and against a fresh capture of it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "installer/detect/detect.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;
using nlohmann::json;

namespace {

HardwareReport Live() {
  StatvfsUsage usage;
  auto r = Detect(Sysroot("/"), usage, {});
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_CASE("live detect agrees with lsblk on disks and sizes") {
  auto r = testing::Run("lsblk -J -b -d -o NAME,SIZE,TYPE,RM");
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  std::map<std::string, uint64_t> lsblk;
  for (const json& d : doc["blockdevices"]) {
    std::string name = d["name"];
    if (d["type"] != "disk" && d["type"] != "rom") continue;
    if (name.rfind("loop", 0) == 0 || name.rfind("zram", 0) == 0 || name.rfind("ram", 0) == 0) continue;
    lsblk[name] = d["size"].is_string() ? std::stoull(d["size"].get<std::string>()) : d["size"].get<uint64_t>();
  }
  std::map<std::string, uint64_t> ours;
  for (const Disk& d : Live().disks) ours[d.name] = d.size_bytes.value_or(0);
  CHECK(ours == lsblk);
}

TEST_CASE("live detect agrees with ip link on NICs and MACs") {
  auto r = testing::Run("ip -j link show");
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> ip;
  for (const json& l : json::parse(r.out)) ip[l["ifname"]] = l.value("address", "");
  std::map<std::string, std::string> ours;
  for (const Nic& n : Live().nics) ours[n.name] = n.mac.value_or("");
  CHECK(ours == ip);
}

TEST_CASE("live detect agrees with /proc/meminfo") {
  auto r = testing::Run("awk '/^MemTotal:/ {print $2}' /proc/meminfo");
  REQUIRE(r.exit_code == 0);
  CHECK(*Live().memory_bytes == std::stoull(r.out) * 1024);
}

TEST_CASE("a fresh capture of this machine detects like the machine itself") {
  testing::TempDir tmp;
  auto cap = testing::Run("bash " + testing::Fixtures() + "/capture-sysroot.sh " + tmp / "host");
  REQUIRE(cap.exit_code == 0);
  StatvfsUsage usage;
  auto captured = Detect(Sysroot(tmp / "host"), usage, {});
  REQUIRE(captured.ok());
  HardwareReport live = Live();
  CHECK(json(captured->cpu) == json(live.cpu));
  CHECK(json(captured->memory_bytes) == json(live.memory_bytes));
  // A capture holds sysfs, not the devices' bytes: what a disk holds (libblkid
  // on /dev/NAME) is compared apart from the rest.
  json captured_disks = captured->disks, live_disks = live.disks;
  for (json* disks : {&captured_disks, &live_disks}) {
    for (json& d : *disks) d.erase("contents");
  }
  CHECK(captured_disks == live_disks);
  CHECK(json(captured->firmware) == json(live.firmware));
  CHECK(json(captured->gpus) == json(live.gpus));
  REQUIRE(captured->nics.size() == live.nics.size());
  for (size_t i = 0; i < live.nics.size(); ++i) {
    CHECK(captured->nics[i].name == live.nics[i].name);
    CHECK(json(captured->nics[i].mac) == json(live.nics[i].mac));
    CHECK(captured->nics[i].physical == live.nics[i].physical);
  }
}
