// The host bridge (`slipway bridge`) on a real uplink: a veth pair between
// two network namespaces this test makes, "host" (uplink up0 with
// 192.0.2.10/24 and a default route) and "datacenter" (the gateway
// 192.0.2.1). The host must reach its gateway after the bridge step, and
// after every failed step, restored.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace slipway;

namespace {

class Namespaces {
 public:
  Namespaces() : host_("slwh" + std::to_string(::getpid())), dc_("slwd" + std::to_string(::getpid())) {
    Down();
    auto r = testing::Run("ip netns add " + host_ + " && ip netns add " + dc_ + " && ip link add up0 netns " + host_ +
                          " type veth peer name dc0 netns " + dc_ + " && ip -n " + dc_ +
                          " addr add 192.0.2.1/24 dev dc0 && ip -n " + dc_ + " link set dc0 up && ip -n " + dc_ +
                          " link set lo up && ip -n " + host_ + " link set lo up && ip -n " + host_ +
                          " addr add 192.0.2.10/24 dev up0 && ip -n " + host_ + " link set up0 up && ip -n " + host_ +
                          " route add default via 192.0.2.1");
    ok_ = r.exit_code == 0;
    error_ = r.err;
  }
  ~Namespaces() { Down(); }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  testing::RunResult InHost(const std::string& cmd) const { return testing::Run("ip netns exec " + host_ + " " + cmd); }
  /// The host reaches its gateway (busybox's ping: iputils is not installed).
  bool ReachesGateway() const { return InHost("busybox ping -c 1 -W 3 192.0.2.1").exit_code == 0; }
  nlohmann::json Addr(const std::string& dev) const {
    auto r = InHost("ip -j addr show dev " + dev);
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)[0] : nlohmann::json();
  }
  std::string DefaultDev() const {
    auto j = nlohmann::json::parse(InHost("ip -j -4 route show default").out);
    return j.empty() ? "" : j[0].value("dev", "");
  }
  bool HasAddress(const std::string& dev, const std::string& ip) const {
    for (const auto& a : Addr(dev).value("addr_info", nlohmann::json::array())) {
      if (a.value("local", "") == ip) return true;
    }
    return false;
  }

 private:
  void Down() { testing::Run("ip netns del " + host_ + "; ip netns del " + dc_); }
  std::string host_, dc_;
  bool ok_ = false;
  std::string error_;
};

}  // namespace

TEST_CASE("slipway bridge moves the host's address and route onto a bridge over the uplink; a rerun changes nothing") {
  Namespaces ns;
  INFO(ns.error());
  REQUIRE(ns.ok());
  REQUIRE(ns.ReachesGateway());
  auto r = ns.InHost(testing::Slipway() + " bridge --uplink up0 --bridge br0");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("br0 now carries 192.0.2.10/24, default via 192.0.2.1; up0 is its port") != std::string::npos);
  CHECK(ns.HasAddress("br0", "192.0.2.10"));
  CHECK(!ns.HasAddress("up0", "192.0.2.10"));
  CHECK(ns.Addr("up0").value("master", "") == "br0");
  CHECK(ns.Addr("br0").value("address", "") == ns.Addr("up0").value("address", "x"));  // the uplink's MAC
  CHECK(ns.DefaultDev() == "br0");
  CHECK(ns.ReachesGateway());
  auto again = ns.InHost(testing::Slipway() + " bridge --uplink up0 --bridge br0");
  CHECK(again.exit_code == 0);
  CHECK(again.out == "br0 already carries up0 (192.0.2.10/24): nothing to do\n");
}

TEST_CASE("a failure at any step of the bridge restores the host's address and route, and says so") {
  // Six changes: create the bridge, bring it up, enslave the uplink, add the
  // address to the bridge, remove it from the uplink, move the default route.
  for (int k = 1; k <= 6; ++k) {
    Namespaces ns;
    REQUIRE(ns.ok());
    auto r = ns.InHost("env SLIPWAY_TEST_FAIL_BRIDGE_STEP=" + std::to_string(k) + " " + testing::Slipway() +
                       " bridge --uplink up0 --bridge br0");
    INFO("failing step " << k << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("the host's network was restored (up0 holds 192.0.2.10/24, default via 192.0.2.1 again)") !=
          std::string::npos);
    CHECK(ns.HasAddress("up0", "192.0.2.10"));
    CHECK(ns.Addr("up0").value("master", "") == "");
    CHECK(ns.Addr("br0").is_null());  // the bridge it created is gone
    CHECK(ns.DefaultDev() == "up0");
    CHECK(ns.ReachesGateway());
  }
}

TEST_CASE("slipway bridge refuses an uplink that does not exist or has no address, and changes nothing") {
  Namespaces ns;
  REQUIRE(ns.ok());
  auto r = ns.InHost(testing::Slipway() + " bridge --uplink nope0");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("uplink NIC 'nope0' does not exist on this host") != std::string::npos);
  ns.InHost("ip addr flush dev up0");
  r = ns.InHost(testing::Slipway() + " bridge --uplink up0");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("has no IPv4 address to move onto the bridge") != std::string::npos);
  CHECK(ns.Addr("slwbr0").is_null());
  r = ns.InHost(testing::Slipway() + " bridge --uplink 'a/b'");
  CHECK(r.exit_code == 2);
}
