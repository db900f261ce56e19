// The plan against the host's real network.
#include "installer/plan/host_network_check.h"

namespace slipway::installer {

namespace {

IpRange Subnet(Ipv4 ip, int prefix) {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return {Ipv4{ip.value & mask}, Ipv4{(ip.value & mask) | ~mask}};
}

std::string Cidr(Ipv4 ip, int prefix) { return ip.ToString() + "/" + std::to_string(prefix); }

const PlanNetwork* NetworkOf(const Plan& plan, const std::string& id) {
  for (const PlanNetwork& n : plan.networks) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

}  // namespace

std::vector<std::pair<Ipv4, std::string>> BridgeAddresses(const Plan& plan) {
  std::vector<std::pair<Ipv4, std::string>> out;
  for (const PlanVm& vm : plan.vms) {
    for (const PlanNic& nic : vm.nics) {
      const PlanNetwork* n = NetworkOf(plan, nic.network_id);
      std::string why;
      if (n && n->mode == NetworkMode::kBridge && n->vlan == 0) {
        if (auto ip = ParseIpv4(nic.ip, &why)) out.emplace_back(*ip, vm.name);
      }
    }
  }
  for (const PlanCluster& c : plan.clusters) {
    const PlanNetwork* n = NetworkOf(plan, c.network_id);
    std::string why;
    if (n && n->mode == NetworkMode::kBridge && n->vlan == 0) {
      if (auto ip = ParseIpv4(c.api_vip, &why)) out.emplace_back(*ip, "API VIP of " + c.name);
    }
  }
  return out;
}

std::vector<std::string> CheckPlanAgainstHost(const Plan& plan, const HostNetworkView& host) {
  std::vector<std::string> problems;
  for (const PlanNetwork& n : plan.networks) {
    if (n.mode != NetworkMode::kNat) continue;
    std::string why;
    auto cidr = ParseCidr(n.cidr, &why);
    if (!cidr) continue;  // the plan check refuses it with its reason
    for (const auto& [ip, prefix] : host.addresses) {
      if (cidr->Range().Overlaps(Subnet(ip, prefix))) {
        problems.push_back("network " + n.name + " of cluster " + n.cluster + " (NAT, " + n.cidr +
                           ") overlaps this host's own subnet " + Subnet(ip, prefix).first.ToString() + "/" +
                           std::to_string(prefix) + " (the host is " + Cidr(ip, prefix) +
                           "): a NAT network must use a subnet of its own. Put the cluster on the host bridge "
                           "(mode = \"bridge\"), or give it a subnet that is not in use here");
      }
    }
  }
  bool bridged = false;
  for (const PlanNetwork& n : plan.networks) bridged = bridged || n.mode == NetworkMode::kBridge;
  if (!bridged) return problems;
  if (host.uplink.empty()) {
    problems.push_back(
        "bridge mode: the uplink has no IPv4 address, so node IPs and VIPs cannot be checked "
        "against its subnet; give the host its address ([host.network] address)");
    return problems;
  }
  for (const auto& [ip, holder] : BridgeAddresses(plan)) {
    bool inside = false;
    for (const auto& [host_ip, prefix] : host.uplink) {
      IpRange subnet = Subnet(host_ip, prefix);
      if (!subnet.Contains(ip)) continue;
      inside = true;
      if (ip == host_ip) {
        problems.push_back(holder + " has " + ip.ToString() + ", which is this host's own address (" +
                           Cidr(host_ip, prefix) + "); move the cluster's node_ip_pool or VIP off it");
      } else if (prefix <= 30 && (ip == subnet.first || ip == subnet.last)) {
        problems.push_back(holder + " has " + ip.ToString() + ", the network or broadcast address of " +
                           subnet.first.ToString() + "/" + std::to_string(prefix));
      }
    }
    if (!inside) {
      std::vector<std::string> nets;
      for (const auto& [host_ip, prefix] : host.uplink) nets.push_back(Cidr(host_ip, prefix));
      std::string list;
      for (const std::string& s : nets) list += (list.empty() ? "" : ", ") + s;
      problems.push_back(holder + " has " + ip.ToString() + ", outside the uplink's subnet (the host is " + list +
                         "): in bridge mode node IPs and VIPs live on the datacenter network");
    }
    if (host.gateway && ip == *host.gateway) {
      problems.push_back(holder + " has " + ip.ToString() + ", which is the host's default gateway");
    }
  }
  return problems;
}

}  // namespace slipway::installer
