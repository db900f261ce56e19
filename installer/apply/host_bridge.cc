// The host bridge on the uplink.
#include "installer/apply/host_bridge.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/net.h"
#include "common/strings.h"
#include "common/subprocess.h"

namespace slipway::installer {

namespace {

struct Link {
  bool exists = false;
  std::string master;
  std::string mac;
  bool is_bridge = false;
  std::vector<std::string> ipv4;  ///< CIDRs
};

Result<Link> ReadLink(const std::string& dev, const IpRunner& ip) {
  Link l;
  auto out = ip({"-j", "-d", "addr", "show", "dev", dev});
  if (!out) return l;  // `ip` says "Device does not exist" with exit 1
  try {
    auto j = nlohmann::json::parse(*out);
    if (!j.is_array() || j.empty()) return l;
    const auto& d = j[0];
    l.exists = true;
    l.master = d.value("master", "");
    l.mac = d.value("address", "");
    if (d.contains("linkinfo")) l.is_bridge = d["linkinfo"].value("info_kind", "") == "bridge";
    for (const auto& a : d.value("addr_info", nlohmann::json::array())) {
      if (a.value("family", "") == "inet") {
        l.ipv4.push_back(a.value("local", "") + "/" + std::to_string(a.value("prefixlen", 32)));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Error::Runtime("cannot read 'ip -j addr show dev " + dev + "': " + e.what());
  }
  return l;
}

// The default route's gateway and device ("" when there is none).
std::pair<std::string, std::string> DefaultRoute(const IpRunner& ip) {
  auto out = ip({"-j", "-4", "route", "show", "default"});
  if (!out) return {};
  try {
    auto j = nlohmann::json::parse(*out);
    for (const auto& r : j) {
      if (r.contains("gateway")) return {r.value("gateway", ""), r.value("dev", "")};
    }
  } catch (const nlohmann::json::exception&) {
  }
  return {};
}

// Each change with the command that undoes it.
struct Change {
  std::vector<std::string> undo;
  std::string what;
};

}  // namespace

bool IsHostBridge(const std::string& dev, const IpRunner& ip) {
  auto l = ReadLink(dev, ip);
  return l && l->exists && l->is_bridge;
}

IpRunner SystemIp() {
  auto mutations = std::make_shared<long>(0);
  long fail_at = 0;
  if (const char* f = std::getenv("SLIPWAY_TEST_FAIL_BRIDGE_STEP")) fail_at = std::atol(f);
  return [mutations, fail_at](const std::vector<std::string>& args) -> Result<std::string> {
    bool query = !args.empty() && args[0] == "-j";
    if (!query && fail_at > 0 && ++*mutations == fail_at) {
      return Error::Runtime("ip " + Join(args, " ") +
                            ": failed (SLIPWAY_TEST_FAIL_BRIDGE_STEP=" + std::to_string(fail_at) + ")");
    }
    std::vector<std::string> argv = {"ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunCommand(argv, {});
    if (!r) return std::move(r).error();
    return r->out;
  };
}

Result<bool> EnsureVlanBridge(const std::string& bridge, int vlan, const IpRunner& ip) {
  const std::string port = VlanPortName(bridge, vlan), sub = VlanBridgeName(bridge, vlan);
  if (!IsInterfaceName(port) || !IsInterfaceName(sub)) {
    return Error::Input("VLAN " + std::to_string(vlan) + " on bridge '" + bridge + "': '" + sub +
                        "' is not an interface name (at most 15 characters); use a bridge name of at most 10");
  }
  auto br = ReadLink(bridge, ip);
  if (!br) return std::move(br).error();
  if (!br->exists || !br->is_bridge) {
    return Error::Input("VLAN " + std::to_string(vlan) + ": the host bridge '" + bridge + "' does not exist");
  }
  auto p = ReadLink(port, ip);
  if (!p) return std::move(p).error();
  auto s = ReadLink(sub, ip);
  if (!s) return std::move(s).error();
  if (s->exists && !s->is_bridge) return Error::Input("'" + sub + "' exists and is not a bridge");
  if (p->exists && s->exists && p->master == sub) return false;
  std::vector<std::vector<std::string>> undo;
  auto step = [&](std::vector<std::string> cmd, std::vector<std::string> back) -> Status {
    auto r = ip(cmd);
    if (!r) return std::move(r).error();
    if (!back.empty()) undo.push_back(std::move(back));
    return Ok();
  };
  auto run = [&]() -> Status {
    if (!p->exists) {
      if (auto st = step({"link", "add", "link", bridge, "name", port, "type", "vlan", "id", std::to_string(vlan)},
                         {"link", "del", port});
          !st)
        return st;
    }
    if (!s->exists) {
      if (auto st = step({"link", "add", "name", sub, "type", "bridge"}, {"link", "del", sub}); !st) return st;
    }
    if (auto st = step({"link", "set", port, "master", sub}, {}); !st) return st;
    if (auto st = step({"link", "set", port, "up"}, {}); !st) return st;
    return step({"link", "set", sub, "up"}, {});
  };
  if (Status st = run(); !st) {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) (void)ip(*it);
    return Error::Runtime("cannot make VLAN " + std::to_string(vlan) + " on " + bridge + ": " + st.error().message() +
                          "; what this step created was removed");
  }
  return true;
}

Result<HostAddresses> ReadHostAddresses(const std::string& uplink, const std::string& bridge, const IpRunner& ip) {
  auto up = ReadLink(uplink, ip);
  if (!up) return std::move(up).error();
  if (!up->exists) return Error::Input("uplink NIC '" + uplink + "' does not exist on this host");
  auto [gateway, dev] = DefaultRoute(ip);
  HostAddresses h;
  std::string carrier = uplink;
  if (up->master == bridge) {
    auto br = ReadLink(bridge, ip);
    if (!br) return std::move(br).error();
    h.cidrs = br->ipv4;
    carrier = bridge;
  }
  h.cidrs.insert(h.cidrs.end(), up->ipv4.begin(), up->ipv4.end());
  if (dev == carrier || dev == uplink) h.gateway = gateway;
  h.carrier = carrier;
  return h;
}

Result<BridgeOutcome> EnsureHostBridge(const std::string& uplink, const std::string& bridge, const IpRunner& ip,
                                       const HostAddress& address) {
  auto up = ReadLink(uplink, ip);
  if (!up) return std::move(up).error();
  if (!up->exists) return Error::Input("uplink NIC '" + uplink + "' does not exist on this host");
  if (up->is_bridge) return Error::Input("uplink '" + uplink + "' is itself a bridge; name the physical NIC under it");
  auto br = ReadLink(bridge, ip);
  if (!br) return std::move(br).error();
  auto [gateway, route_dev] = DefaultRoute(ip);

  BridgeOutcome out;
  auto holds = [](const std::vector<std::string>& list, const std::string& cidr) {
    return std::find(list.begin(), list.end(), cidr) != list.end();
  };
  // Already done (a rerun, or a reboot of an installed host).
  if (br->exists && up->master == bridge && up->ipv4.empty() &&
      (address.cidr.empty() || holds(br->ipv4, address.cidr))) {
    out.addresses = br->ipv4;
    out.gateway = route_dev == bridge ? gateway : "";
    return out;
  }
  if (br->exists && !br->is_bridge) return Error::Input("'" + bridge + "' exists and is not a bridge");
  if (!up->master.empty() && up->master != bridge) {
    return Error::Input("uplink '" + uplink + "' already belongs to '" + up->master +
                        "'; name that bridge, or free the uplink first");
  }
  // The host's address: moved from the uplink, or (a host with no address
  // yet) the answer file's, configured on the bridge.
  bool configure = false;
  if (!address.cidr.empty() && !holds(up->ipv4, address.cidr) && !(br->exists && holds(br->ipv4, address.cidr))) {
    if (!up->ipv4.empty()) {
      return Error::Input("uplink '" + uplink + "' holds " + Join(up->ipv4, ", ") + ", but the answer file gives " +
                          address.cidr + " for this host; correct the answer file's address or the NIC's");
    }
    configure = true;
  }
  if (up->ipv4.empty() && !configure && !(br->exists && up->master == bridge)) {
    return Error::Input("uplink '" + uplink +
                        "' has no IPv4 address to move onto the bridge; give the host its address first (the "
                        "answer file's [host.network] address and gateway)");
  }
  if (configure && gateway.empty()) {
    gateway = address.gateway;
    route_dev = "";
  }

  std::vector<Change> changes;
  auto step = [&](std::vector<std::string> cmd, std::vector<std::string> undo, std::string what) -> Status {
    auto r = ip(cmd);
    if (!r) return std::move(r).error();
    changes.push_back({std::move(undo), std::move(what)});
    return Ok();
  };
  auto run = [&]() -> Status {
    if (!br->exists) {
      if (auto st = step({"link", "add", "name", bridge, "address", up->mac, "type", "bridge"}, {"link", "del", bridge},
                         "created bridge " + bridge + " with " + uplink + "'s MAC");
          !st)
        return st;
    }
    if (auto st = step({"link", "set", bridge, "up"}, {"link", "set", bridge, "down"}, "brought " + bridge + " up");
        !st)
      return st;
    if (auto st = step({"link", "set", uplink, "master", bridge}, {"link", "set", uplink, "nomaster"},
                       "enslaved " + uplink + " to " + bridge);
        !st)
      return st;
    // Removing the uplink's address drops the routes through it: the undo
    // must bring the default route back after the address (undos run in
    // reverse), even when the step that moves the route is never reached.
    if (!gateway.empty() && route_dev == uplink) {
      changes.push_back(
          {{"route", "replace", "default", "via", gateway, "dev", uplink}, "default route via " + uplink});
    }
    // Each address goes onto the bridge before it leaves the uplink, so the
    // host always holds it somewhere.
    for (const std::string& a : up->ipv4) {
      if (auto st = step({"addr", "add", a, "dev", bridge}, {"addr", "del", a, "dev", bridge},
                         "added " + a + " to " + bridge);
          !st)
        return st;
      if (auto st = step({"addr", "del", a, "dev", uplink}, {"addr", "add", a, "dev", uplink},
                         "removed " + a + " from " + uplink);
          !st)
        return st;
    }
    if (configure) {
      if (auto st = step({"addr", "add", address.cidr, "dev", bridge}, {"addr", "del", address.cidr, "dev", bridge},
                         "added " + address.cidr + " (the answer file's) to " + bridge);
          !st)
        return st;
      if (!gateway.empty() && route_dev.empty()) {
        if (auto st = step({"route", "replace", "default", "via", gateway, "dev", bridge},
                           {"route", "del", "default", "via", gateway, "dev", bridge},
                           "default route via " + gateway + " on " + bridge);
            !st)
          return st;
      }
    }
    if (!gateway.empty() && route_dev == uplink) {
      if (auto st = step({"route", "replace", "default", "via", gateway, "dev", bridge},
                         {"route", "replace", "default", "via", gateway, "dev", uplink},
                         "default route via " + gateway + " on " + bridge);
          !st)
        return st;
    }
    return Ok();
  };
  Status st = run();
  if (!st) {
    // Undo in reverse order; whatever cannot be undone is named.
    std::vector<std::string> left;
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
      if (!ip(it->undo)) left.push_back(it->what);
    }
    std::string before = up->ipv4.empty() ? uplink + " is as it was, with no address"
                                          : uplink + " holds " + Join(up->ipv4, ", ") +
                                                (route_dev == uplink ? ", default via " + gateway : "") + " again";
    std::string how = left.empty() ? "the host's network was restored (" + before + ")"
                                   : "restoring failed too; still changed: " + Join(left, "; ");
    return Error::Runtime("cannot move " + uplink + "'s address onto bridge " + bridge + ": " + st.error().message() +
                          "; " + how);
  }
  out.changed = true;
  out.addresses = up->ipv4;
  if (configure) out.addresses.push_back(address.cidr);
  out.gateway = route_dev == uplink || (configure && route_dev.empty()) ? gateway : "";
  for (const Change& c : changes) {
    if (c.what != "default route via " + uplink) out.done.push_back(c.what);
  }
  return out;
}

}  // namespace slipway::installer
