// slipway bridge: the host's external switch (a Linux bridge on the uplink).
#include <ostream>

#include "cli/commands.h"
#include "cli/host_context.h"
#include "common/net.h"
#include "common/strings.h"
#include "installer/apply/host_bridge.h"

namespace slipway::cli {

namespace {

constexpr const char* kBridgeHelp =
    "usage: slipway bridge --uplink NIC [--bridge NAME] [--vlan N]...\n\n"
    "Puts this host's IPv4 addresses and default route on a Linux bridge over its\n"
    "uplink NIC (default name slwbr0), as AKS hybrid's external virtual switch:\n"
    "VMs attached to it live on the datacenter network. Each address is added to\n"
    "the bridge before it leaves the NIC. If any step of the bridge fails, every\n"
    "change is undone and the error says that the host's address and route are\n"
    "back on the NIC. A failed VLAN step undoes only that VLAN; the bridge stays.\n"
    "Running it again on a host that has the bridge changes nothing. Needs root.\n\n"
    "  --vlan N   also a VLAN for clusters with [network] vlan = N: the tagged port\n"
    "             NAME.N on the bridge under the sub-bridge NAMEvN, which those\n"
    "             clusters' VMs join (1 to 4094; repeatable; NAME at most 10\n"
    "             characters, so that NAMEvN fits an interface name)\n\n"
    "Exit codes: 0 done (or already done), 1 a step failed (network restored),\n"
    "2 bad input (no such NIC, the NIC has no address or belongs to another bridge,\n"
    "a bridge name too long for --vlan).\n";

}  // namespace

int RunBridge(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"help"}, {"uplink", true}, {"bridge", true}, {"vlan", true, true}});
  if (!args) return UsageError("bridge", args.error(), kBridgeHelp, io);
  if (args->Has("help")) {
    io.out << kBridgeHelp;
    return 0;
  }
  std::string uplink = args->Get("uplink");
  std::string bridge = args->Get("bridge", "slwbr0");
  for (const auto& [flag, name] : {std::pair<std::string, std::string>{"--uplink", uplink}, {"--bridge", bridge}}) {
    if (!IsInterfaceName(name)) {
      return UsageError("bridge", Error::Input(flag + " needs an interface name of 1 to 15 characters"), kBridgeHelp,
                        io);
    }
  }
  std::vector<int> vlans;
  for (const std::string& v : args->GetAll("vlan")) {
    int n = 0;
    if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos || (n = std::stoi(v)) < 1 ||
        n > 4094) {
      return UsageError("bridge", Error::Input("--vlan takes a VLAN id from 1 to 4094, not '" + v + "'"), kBridgeHelp,
                        io);
    }
    vlans.push_back(n);
  }
  auto ip = installer::SystemIp();
  auto r = installer::EnsureHostBridge(uplink, bridge, ip);
  if (!r) return ReportError("bridge", r.error(), io);
  if (!r->changed) {
    io.out << bridge << " already carries " << uplink << " (" << Join(r->addresses, ", ") << "): nothing to do\n";
  } else {
    for (const std::string& d : r->done) io.out << "  " << d << "\n";
    io.out << bridge << " now carries " << Join(r->addresses, ", ")
           << (r->gateway.empty() ? "" : ", default via " + r->gateway) << "; " << uplink << " is its port\n";
  }
  for (int vlan : vlans) {
    auto v = installer::EnsureVlanBridge(bridge, vlan, ip);
    if (!v) return ReportError("bridge", v.error(), io);
    io.out << "VLAN " << vlan << ": " << VlanBridgeName(bridge, vlan) << " over the tagged port "
           << VlanPortName(bridge, vlan) << (*v ? "" : " (already there)") << "\n";
  }
  return 0;
}

}  // namespace slipway::cli
