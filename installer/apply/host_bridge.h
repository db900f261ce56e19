// The host's external switch, as AKS hybrid has one: a Linux bridge on the
// uplink NIC that carries the host's own address, so that VM NICs attached
// to it put node IPs, API VIPs and Service VIPs on the datacenter network.
//
// Moving a live host's address is the one step that can cut the host off,
// so it is guarded: the uplink's IPv4 addresses and default route are read
// first, every change is undone in reverse order when a later one fails,
// and the outcome says what was restored and why.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::installer {

/// Runs one `ip` command (argv without "ip"); returns its stdout. The real
/// one runs iproute2's `ip`; tests pass it too, inside a network namespace.
using IpRunner = std::function<Result<std::string>(const std::vector<std::string>& args)>;

/// The real runner: iproute2's `ip`. With SLIPWAY_TEST_FAIL_BRIDGE_STEP=N in
/// the environment, the Nth command that changes something fails instead
/// (the test hook for the rollback).
IpRunner SystemIp();

/// Is `dev` a Linux bridge in this process's network namespace? Asked over
/// netlink (`ip -d`), not /sys/class/net, which shows the namespace that
/// mounted sysfs.
bool IsHostBridge(const std::string& dev, const IpRunner& ip);

struct BridgeOutcome {
  bool changed = false;                ///< false: the bridge already carried the uplink and its addresses
  std::vector<std::string> addresses;  ///< CIDRs now on the bridge
  std::string gateway;                 ///< the default route's gateway, or ""
  std::vector<std::string> done;       ///< what was changed, one line per change
};

/// Makes `bridge` the carrier of `uplink`'s IPv4 addresses and default
/// route, with `uplink` enslaved to it. Idempotent. On a failure every
/// change made is undone (uplink freed, addresses and route back on it, a
/// bridge this call created deleted) and the error says why and that the
/// host's network was restored (or, if the restore failed too, what is left).
/// REQUIRES: `uplink` exists and is not a bridge; names are interface names.
/// With `address` (a CIDR such as 192.0.2.10/24, the answer file's host
/// address) and `gateway`: an uplink with no IPv4 address gets them on the
/// bridge (the host's network is configured, not only moved); an uplink that
/// holds other addresses is refused, naming both.
struct HostAddress {
  std::string cidr;
  std::string gateway;  ///< "" = no default route is added
};
Result<BridgeOutcome> EnsureHostBridge(const std::string& uplink, const std::string& bridge, const IpRunner& ip,
                                       const HostAddress& address = {});

/// A VLAN on the host bridge: the tagged port VlanPortName(bridge, vlan)
/// (a VLAN interface on `bridge`) under the sub-bridge VlanBridgeName(bridge,
/// vlan), both up. Idempotent (false: already there). On a failure, what it
/// created is removed. REQUIRES: `bridge` exists; 1 <= vlan <= 4094.
Result<bool> EnsureVlanBridge(const std::string& bridge, int vlan, const IpRunner& ip);

/// The IPv4 CIDRs and default gateway the host has now on `uplink`, or on
/// `bridge` when the bridge already carries the uplink (a rerun).
struct HostAddresses {
  std::vector<std::string> cidrs;
  std::string gateway;
  std::string carrier;  ///< the interface that holds them: the uplink, or the bridge on a rerun
};
Result<HostAddresses> ReadHostAddresses(const std::string& uplink, const std::string& bridge, const IpRunner& ip);

}  // namespace slipway::installer
