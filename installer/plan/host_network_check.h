// A plan checked against the network this host really is on: the addresses
// `ip` shows on the host (or on its uplink, for bridge mode) and its default
// gateway. Pure: the installer reads the host, this decides.
//
//  - A NAT network must not take a subnet the host is already on: libvirt
//    would route the datacenter's subnet into its own island, and the
//    management cluster would take the host's own address.
//  - In bridge mode, every node IP, API VIP and VIP pool lies inside the
//    uplink's subnet, and none is the host's own address or its gateway.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/net.h"
#include "installer/plan/plan.h"

namespace slipway::installer {

struct HostNetworkView {
  std::vector<std::pair<Ipv4, int>> addresses;  ///< every IPv4 address of the host, with its prefix
  std::vector<std::pair<Ipv4, int>> uplink;     ///< the addresses on the uplink (or its bridge); bridge mode
  std::optional<Ipv4> gateway;                  ///< the default gateway
};

/// One line per problem, each naming the network or VM, the address and
/// the fix; empty when the plan fits the host's network.
std::vector<std::string> CheckPlanAgainstHost(const Plan& plan, const HostNetworkView& host);

/// Every address an untagged bridge-mode network of the plan hands out:
/// node IPs and API VIPs, with what holds each ("mgmt-lb", "API VIP of
/// mgmt"). For the uplink-subnet check and the ARP probe. Networks on a VLAN
/// are another segment with a subnet of their own: not checked against the
/// uplink's, and not probed (a documented gap).
std::vector<std::pair<Ipv4, std::string>> BridgeAddresses(const Plan& plan);

}  // namespace slipway::installer
