// A plan against the host's real network (installer/plan/host_network_check.h):
// NAT networks must not take the host's subnet; bridge-mode addresses must
// lie in the uplink's subnet and never be the host or its gateway.
#include "installer/plan/host_network_check.h"

#include <catch2/catch.hpp>

#include "common/strings.h"
#include "installer/plan/planner.h"
#include "plan_fixtures.h"

using namespace slipway;
using namespace slipway::installer;
using slipway::testing::BundledCatalog;
using slipway::testing::MakeCluster;
using slipway::testing::MakeHost;

namespace {

// Cluster "lab" (index 7: 10.7.0.0/16), bridged or not, plus the default
// NAT management network 172.31.0.0/24.
Plan MakeTestPlan(bool bridged) {
  PlanInputs in;
  std::vector<PlanHostInput> hosts = {
      MakeHost("4c4c4544-0000-0000-0000-000000000001", 32, 256, {{"/ClusterStorage/Volume1", 4000}})};
  static ClusterProfile lab;
  lab = MakeCluster("lab", 7, 1, 1, 1);
  if (bridged) {
    lab.network.mode = NetworkMode::kBridge;
    lab.network.bridge = "slwbr0";
  }
  in.hosts = hosts;
  in.profile = BundledCatalog().FindHardware("standard");
  in.clusters = {&lab};
  in.sizes = &*BundledCatalog().sizes;
  in.firmware = &*BundledCatalog().firmware;
  auto p = MakePlan(in);
  REQUIRE(p.ok());
  return *p;
}

std::pair<Ipv4, int> Addr(const std::string& s) {
  std::string why;
  auto a = ParseIfaceAddress(s, &why);
  REQUIRE(a);
  return *a;
}

std::string All(const std::vector<std::string>& v) { return Join(v, "\n"); }

}  // namespace

TEST_CASE("a NAT network may not take a subnet the host is on, the management default included") {
  Plan plan = MakeTestPlan(false);
  HostNetworkView host;
  host.addresses = {Addr("192.168.1.5/24")};
  CHECK(CheckPlanAgainstHost(plan, host).empty());
  host.addresses.push_back(Addr("172.31.0.7/16"));  // the host sits on the management default
  auto problems = CheckPlanAgainstHost(plan, host);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("network slipway-mgmt of cluster mgmt (NAT, 172.31.0.0/24) overlaps this host's own "
                         "subnet 172.31.0.0/16 (the host is 172.31.0.7/16)") != std::string::npos);
  host.addresses = {Addr("10.7.200.1/24")};  // inside the lab cluster's 10.7.0.0/16
  problems = CheckPlanAgainstHost(plan, host);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("network slipway-lab of cluster lab (NAT, 10.7.0.0/16)") != std::string::npos);
}

TEST_CASE("bridge-mode addresses must be in the uplink's subnet and never the host's own address or gateway") {
  Plan plan = MakeTestPlan(true);
  auto addresses = BridgeAddresses(plan);
  REQUIRE(addresses.size() == 4);  // cp, lb, worker, the API VIP
  HostNetworkView host;
  host.uplink = {Addr("10.7.0.5/16")};
  host.addresses = host.uplink;
  host.gateway = Ipv4{(10u << 24) | (7u << 16) | 1};
  CHECK(All(CheckPlanAgainstHost(plan, host)) == "");

  SECTION("another subnet") {
    host.uplink = {Addr("192.0.2.10/24")};
    host.addresses = host.uplink;
    auto problems = CheckPlanAgainstHost(plan, host);
    CHECK(problems.size() == 4);
    REQUIRE(addresses.back().second == "API VIP of lab");
    CHECK(All(problems).find("API VIP of lab has " + addresses.back().first.ToString() +
                             ", outside the uplink's subnet (the host is 192.0.2.10/24)") != std::string::npos);
  }
  SECTION("the host's own address and its gateway") {
    host.uplink = {std::make_pair(addresses[0].first, 16)};
    host.addresses = host.uplink;
    host.gateway = addresses[1].first;
    auto problems = CheckPlanAgainstHost(plan, host);
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].find(addresses[0].second + " has " + addresses[0].first.ToString() +
                           ", which is this host's own address") != std::string::npos);
    CHECK(problems[1] ==
          addresses[1].second + " has " + addresses[1].first.ToString() + ", which is the host's default gateway");
  }
  SECTION("an uplink without an address cannot be checked") {
    host.uplink.clear();
    auto problems = CheckPlanAgainstHost(plan, host);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("the uplink has no IPv4 address") != std::string::npos);
  }
}
