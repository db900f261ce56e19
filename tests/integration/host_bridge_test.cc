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
  testing::RunResult InDc(const std::string& cmd) const { return testing::Run("ip netns exec " + dc_ + " " + cmd); }
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

TEST_CASE(
    "slipway bridge moves the host's address and route onto a bridge over the uplink, and a rerun changes nothing") {
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

TEST_CASE("slipway bridge --vlan makes a tagged sub-bridge whose traffic reaches the same VLAN on the other side") {
  Namespaces ns;
  REQUIRE(ns.ok());
  // The datacenter side of VLAN 100: a tagged interface with its own subnet.
  // Some kernels (this project's CI sandbox among them) have no 802.1Q
  // support and cannot load it; there the tagged path cannot run at all, and
  // tests/installer/vlan_bridge_test.cc checks the commands through the ip
  // seam instead.
  auto tagged = ns.InDc("ip link add link dc0 name dc0.100 type vlan id 100");
  if (tagged.exit_code != 0 && tagged.err.find("Unknown device type") != std::string::npos) {
    WARN("not run: this kernel has no 802.1Q (VLAN) support: " << tagged.err);
    return;
  }
  REQUIRE(tagged.exit_code == 0);
  REQUIRE(ns.InDc("ip addr add 198.51.100.1/24 dev dc0.100").exit_code == 0);
  REQUIRE(ns.InDc("ip link set dc0.100 up").exit_code == 0);
  auto r = ns.InHost(testing::Slipway() + " bridge --uplink up0 --bridge br0 --vlan 100");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("VLAN 100: br0v100 over the tagged port br0.100\n") != std::string::npos);
  CHECK(ns.Addr("br0.100").value("master", "") == "br0v100");
  // A VM's NIC on the sub-bridge stands in as an address on it: its frames
  // leave up0 tagged 100 and reach dc0.100 only.
  REQUIRE(ns.InHost("ip addr add 198.51.100.10/24 dev br0v100").exit_code == 0);
  CHECK(ns.InHost("busybox ping -c 1 -W 3 198.51.100.1").exit_code == 0);
  CHECK(ns.ReachesGateway());  // the untagged network still works
  auto again = ns.InHost(testing::Slipway() + " bridge --uplink up0 --bridge br0 --vlan 100");
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("VLAN 100: br0v100 over the tagged port br0.100 (already there)") != std::string::npos);
  auto bad = ns.InHost(testing::Slipway() + " bridge --uplink up0 --bridge br0 --vlan 4095");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--vlan takes a VLAN id from 1 to 4094, not '4095'") != std::string::npos);
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

namespace {

// slipway-installer inside the "host" namespace: the lab fixture host (its
// hardware from a captured sysroot), libvirt's test driver, and an answer
// file that puts the management cluster on the host bridge over up0.
struct BridgedInstall {
  testing::TempDir t;
  std::string Answer(const std::string& address_line) {
    std::string answer = t / "answer.toml";
    testing::WriteText(answer,
                       "[defaults]\nhardware_profile = \"lab\"\nclusters = [\"lab\"]\n\n"
                       "[[host]]\nname = \"lab-01\"\nmac = \"02:fc:00:00:00:01\"\n[host.network]\n"
                       "mode = \"bridge\"\nuplink = \"up0\"\n" +
                           address_line + "gateway = \"192.0.2.1\"\nvip = \"192.0.2.20\"\n");
    return answer;
  }
  testing::RunResult Run(const Namespaces& ns, const std::string& env, const std::string& flags,
                         const std::string& state = "state") {
    std::string fixture = testing::Fixtures() + "/hosts/lab-csv";
    std::string installer = testing::Slipway();
    installer = installer.substr(0, installer.rfind('/')) + "/slipway-installer";
    return ns.InHost("env " + env + " " + installer + " --sysroot " + fixture + " --fs-usage " + fixture +
                     "/statvfs.json --answer " + t / "answer.toml" + " --state " + t / state + " --storage-root " +
                     t / "root" + " --connect test:///default " + flags + " < /dev/null");
  }
  nlohmann::json Report(const std::string& state = "state") {
    return nlohmann::json::parse(testing::ReadText(t / (state + "/report.json")));
  }
};

}  // namespace

TEST_CASE("the installer in bridge mode puts the host bridge on the uplink, and the management VMs on it") {
  Namespaces ns;
  INFO(ns.error());
  REQUIRE(ns.ok());
  BridgedInstall in;
  in.Answer("address = \"192.0.2.10/24\"\n");
  auto r = in.Run(ns, "", "--probe");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Host bridge slwbr0 on up0: carries 192.0.2.10/24, default via 192.0.2.1") != std::string::npos);
  CHECK(r.out.find("Probing ") != std::string::npos);
  auto report = in.Report();
  CHECK(report["host_network"]["changed"] == true);
  CHECK(report["host_network"]["uplink"] == "up0");
  CHECK(report["host_network"]["probe"]["in_use"].empty());
  CHECK(report["host_network"]["probe"]["probed"].get<int>() >= 3);  // 2 VMs and the VIP
  CHECK(ns.HasAddress("slwbr0", "192.0.2.10"));
  CHECK(ns.Addr("up0").value("master", "") == "slwbr0");
  CHECK(ns.DefaultDev() == "slwbr0");
  CHECK(ns.ReachesGateway());
  // The management cluster's network is the bridge, on the host's subnet.
  auto plan = nlohmann::json::parse(testing::ReadText(in.t / "state/plan.json"));
  bool mgmt_bridged = false;
  for (const auto& n : plan["networks"]) {
    if (n["cluster"] == "mgmt") mgmt_bridged = n["mode"] == "bridge" && n["bridge"] == "slwbr0";
  }
  CHECK(mgmt_bridged);
  // A rerun finds it in place and changes nothing.
  auto again = in.Run(ns, "", "", "state2");
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("Host bridge slwbr0 on up0: carries 192.0.2.10/24, default via 192.0.2.1 (already in place)") !=
        std::string::npos);
  CHECK(in.Report("state2")["host_network"]["changed"] == false);
}

TEST_CASE(
    "the installer's --probe refuses planned addresses that answer ARP on the network, before anything is changed") {
  Namespaces ns;
  REQUIRE(ns.ok());
  // Someone on the datacenter side already uses the management VMs' first
  // address and the VIP.
  REQUIRE(ns.InDc("ip addr add 192.0.2.21/24 dev dc0").exit_code == 0);
  REQUIRE(ns.InDc("ip addr add 192.0.2.20/24 dev dc0").exit_code == 0);
  std::string dc_mac = nlohmann::json::parse(ns.InDc("ip -j link show dev dc0").out)[0].value("address", "");
  BridgedInstall in;
  in.Answer("address = \"192.0.2.10/24\"\n");
  auto r = in.Run(ns, "", "--probe");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  auto report = in.Report();
  std::string error = report.value("error", "");
  CHECK(error.find("already in use on the network (ARP probe on up0)") != std::string::npos);
  CHECK(error.find("192.0.2.20 (API VIP of mgmt) answered from " + dc_mac) != std::string::npos);
  CHECK(error.find("192.0.2.21 (mgmt-") != std::string::npos);
  CHECK(report["host_network"]["probe"]["in_use"].size() == 2);
  // Nothing changed: no bridge, the address still on the uplink.
  CHECK(ns.Addr("slwbr0").is_null());
  CHECK(ns.HasAddress("up0", "192.0.2.10"));
  CHECK(ns.ReachesGateway());
}

TEST_CASE("the installer configures the answer file's address on the bridge of an uplink that has none") {
  Namespaces ns;
  REQUIRE(ns.ok());
  REQUIRE(ns.InHost("ip addr flush dev up0").exit_code == 0);
  REQUIRE(!ns.ReachesGateway());
  BridgedInstall in;
  in.Answer("address = \"192.0.2.10/24\"\n");
  auto r = in.Run(ns, "", "");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(ns.HasAddress("slwbr0", "192.0.2.10"));
  CHECK(ns.DefaultDev() == "slwbr0");
  CHECK(ns.ReachesGateway());
}

TEST_CASE("a failed bridge step during the install restores the host's network, and the report says why") {
  for (int k : {2, 4, 6}) {
    Namespaces ns;
    REQUIRE(ns.ok());
    BridgedInstall in;
    in.Answer("address = \"192.0.2.10/24\"\n");
    auto r = in.Run(ns, "SLIPWAY_TEST_FAIL_BRIDGE_STEP=" + std::to_string(k), "");
    INFO("failing step " << k << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    auto report = in.Report();
    CHECK(report["result"] == "failed");
    CHECK(report.value("error", "")
              .find("the host's network was restored (up0 holds 192.0.2.10/24, default via "
                    "192.0.2.1 again)") != std::string::npos);
    CHECK(ns.HasAddress("up0", "192.0.2.10"));
    CHECK(ns.Addr("slwbr0").is_null());
    CHECK(ns.ReachesGateway());
  }
}

TEST_CASE("bridge mode refuses an answer-file address that the uplink does not hold, changing nothing") {
  Namespaces ns;
  REQUIRE(ns.ok());
  BridgedInstall in;
  in.Answer("address = \"192.0.2.11/24\"\n");
  auto r = in.Run(ns, "", "");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 2);
  CHECK(in.Report()
            .value("error", "")
            .find("uplink 'up0' holds 192.0.2.10/24, but the answer file gives "
                  "192.0.2.11/24") != std::string::npos);
  CHECK(ns.Addr("slwbr0").is_null());
  CHECK(ns.HasAddress("up0", "192.0.2.10"));
}
