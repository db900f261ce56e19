// EnsureVlanBridge through the `ip` seam (installer/apply/host_bridge.h):
// the commands it runs, its idempotence and its undo. The real iproute2
// passes through the same seam in tests/integration/host_bridge_test.cc
// (the bridge itself always; the VLAN where the kernel has 802.1Q).
#include <catch2/catch.hpp>
#include <map>

#include "common/strings.h"
#include "installer/apply/host_bridge.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

// A host whose links are JSON as `ip -j -d addr show dev X` prints them;
// every change is recorded, and the Nth change can be made to fail.
struct FakeIp {
  std::map<std::string, std::string> links;
  std::vector<std::string> changes;
  int fail_at = 0;
  IpRunner Runner() {
    return [this](const std::vector<std::string>& args) -> Result<std::string> {
      if (!args.empty() && args[0] == "-j") {
        const std::string& dev = args.back();
        if (!links.count(dev)) return Error::Runtime("Device \"" + dev + "\" does not exist.");
        return links[dev];
      }
      changes.push_back(Join(args, " "));
      if (fail_at > 0 && static_cast<int>(changes.size()) == fail_at) return Error::Runtime("ip: refused");
      return std::string();
    };
  }
};

std::string Bridge(const std::string& name, const std::string& master = "") {
  return "[{\"ifname\":\"" + name + "\",\"address\":\"52:54:00:00:00:01\"" +
         (master.empty() ? "" : ",\"master\":\"" + master + "\"") +
         ",\"linkinfo\":{\"info_kind\":\"bridge\"},\"addr_info\":[]}]";
}
std::string Vlan(const std::string& name, const std::string& master) {
  return "[{\"ifname\":\"" + name + "\",\"address\":\"52:54:00:00:00:01\",\"master\":\"" + master +
         "\",\"linkinfo\":{\"info_kind\":\"vlan\"},\"addr_info\":[]}]";
}

}  // namespace

TEST_CASE("a VLAN on the host bridge is a tagged port under a sub-bridge, made once, undone on failure") {
  FakeIp ip;
  ip.links["slwbr0"] = Bridge("slwbr0");
  auto made = EnsureVlanBridge("slwbr0", 100, ip.Runner());
  REQUIRE(made.ok());
  CHECK(*made);
  CHECK(ip.changes == std::vector<std::string>{"link add link slwbr0 name slwbr0.100 type vlan id 100",
                                               "link add name slwbr0v100 type bridge",
                                               "link set slwbr0.100 master slwbr0v100", "link set slwbr0.100 up",
                                               "link set slwbr0v100 up"});

  SECTION("already there: nothing is changed") {
    ip.changes.clear();
    ip.links["slwbr0.100"] = Vlan("slwbr0.100", "slwbr0v100");
    ip.links["slwbr0v100"] = Bridge("slwbr0v100");
    auto again = EnsureVlanBridge("slwbr0", 100, ip.Runner());
    REQUIRE(again.ok());
    CHECK(!*again);
    CHECK(ip.changes.empty());
  }
  SECTION("a failed step removes what this call created") {
    for (int k = 1; k <= 5; ++k) {
      FakeIp f;
      f.links["slwbr0"] = Bridge("slwbr0");
      f.fail_at = k;
      auto r = EnsureVlanBridge("slwbr0", 100, f.Runner());
      INFO("failing change " << k << ": " << Join(f.changes, "; "));
      REQUIRE(!r.ok());
      CHECK(r.error().message().find("what this step created was removed") != std::string::npos);
      std::vector<std::string> undo(f.changes.begin() + k, f.changes.end());
      std::vector<std::string> want;
      if (k >= 3) want.push_back("link del slwbr0v100");
      if (k >= 2) want.push_back("link del slwbr0.100");
      CHECK(undo == want);
    }
  }
  SECTION("no host bridge, or a name too long for the sub-bridge") {
    FakeIp empty;
    auto r = EnsureVlanBridge("slwbr0", 100, empty.Runner());
    REQUIRE(!r.ok());
    CHECK(r.error().message() == "VLAN 100: the host bridge 'slwbr0' does not exist");
    auto long_name = EnsureVlanBridge("slwbr-uplink", 4000, ip.Runner());
    REQUIRE(!long_name.ok());
    CHECK(long_name.error().message().find("'slwbr-uplinkv4000' is not an interface name") != std::string::npos);
  }
}
