// Reading and validating workload cluster profiles (profiles/clusters/*.toml).
#include <set>

#include "common/strings.h"
#include "installer/model/profiles.h"

namespace slipway::installer {

int64_t ClusterProfile::TotalVms() const {
  int64_t n = control_plane_count + load_balancer_count;
  for (const NodePool& p : node_pools) n += p.count;
  return n;
}

namespace {

template <typename T, typename Parse>
std::optional<T> ReadNet(TableReader& r, std::string_view key, Need need, Parse parse) {
  auto s = r.String(key, need);
  if (!s) return std::nullopt;
  std::string why;
  auto v = parse(*s, &why);
  if (!v) r.ErrorAt(key, "'" + std::string(key) + "': " + why);
  return v;
}

void ReadControlPlane(const toml::table& t, ClusterProfile* c, Diagnostics* diags) {
  TableReader r(t, c->file, "[control_plane]", diags);
  if (auto n = r.Int("count", Need::kRequired, 1, 5)) {
    if (*n != 1 && *n != 3 && *n != 5) {
      r.ErrorAt("count", "control plane 'count' is " + std::to_string(*n) +
                             "; it must be 1, 3 or 5 (etcd needs an odd number of members)");
    } else {
      c->control_plane_count = *n;
      c->positions["control_plane.count"] = r.ValuePos("count");
    }
  }
  c->control_plane_size = r.String("size", Need::kRequired).value_or("");
  c->positions["control_plane.size"] = r.ValuePos("size");
  c->control_plane_firmware = r.String("firmware", Need::kOptional).value_or("uefi");
  if (r.Has("firmware")) c->positions["control_plane.firmware"] = r.ValuePos("firmware");
  r.Finish();
}

void ReadLoadBalancer(const toml::table& t, ClusterProfile* c, Diagnostics* diags) {
  TableReader r(t, c->file, "[load_balancer]", diags);
  c->load_balancer_count = r.Int("count", Need::kRequired, 1, 16).value_or(1);
  c->positions["load_balancer.count"] = r.ValuePos("count");
  c->load_balancer_size = r.String("size", Need::kRequired).value_or("");
  c->positions["load_balancer.size"] = r.ValuePos("size");
  c->load_balancer_firmware = r.String("firmware", Need::kOptional).value_or("uefi");
  if (r.Has("firmware")) c->positions["load_balancer.firmware"] = r.ValuePos("firmware");
  auto ha = r.Bool("ha", Need::kOptional);
  c->load_balancer_ha = ha.value_or(c->load_balancer_count >= 2);
  if (ha && *ha && c->load_balancer_count < 2) {
    r.ErrorAt("ha", "'ha' = true needs at least 2 load balancers for keepalived VRRP; set count = 2");
  }
  if (auto v = ReadNet<IpRange>(r, "vip_pool", Need::kRequired, ParseIpRange)) {
    c->vip_pool = *v;
    c->positions["load_balancer.vip_pool"] = r.ValuePos("vip_pool");
  }
  r.Finish();
}

void ReadNodePools(TableReader& top, ClusterProfile* c, Diagnostics* diags) {
  std::set<std::string> names;
  auto pools = top.TableArray("node_pool", Need::kRequired);
  for (const toml::table* t : pools) {
    NodePool p;
    TableReader r(*t, c->file, "[[node_pool]]", diags);
    p.pos = r.TablePos();
    p.name = ReadDnsName(r, "name", Need::kRequired).value_or("");
    if (!p.name.empty() && !names.insert(p.name).second) {
      r.ErrorAt("name", "node pool '" + p.name + "' is defined twice");
    }
    p.os = r.Enum("os", Need::kRequired, {"linux", "windows"}).value_or("linux");
    p.count = r.Int("count", Need::kRequired, 0, 1000).value_or(0);
    p.size = r.String("size", Need::kRequired).value_or("");
    p.size_pos = r.ValuePos("size");
    p.firmware = r.String("firmware", Need::kOptional).value_or("uefi");
    if (r.Has("firmware")) p.firmware_pos = r.ValuePos("firmware");
    p.data_disk_gib = r.Int("data_disk_gib", Need::kOptional, 0, 65536).value_or(0);
    if (auto labels = r.StringMap("labels", Need::kOptional)) {
      for (const auto& [k, v] : *labels) {
        std::string problem = LabelKeyProblem(k);
        if (!problem.empty()) r.ErrorAt("labels", "label key '" + k + "' " + problem);
        std::string value_problem = LabelValueProblem(v);
        if (!value_problem.empty()) r.ErrorAt("labels", "label '" + k + "' value '" + v + "' " + value_problem);
      }
      p.labels = *labels;
    }
    if (auto taints = r.StringArray("taints", Need::kOptional)) {
      for (const std::string& taint : *taints) {
        std::string problem = TaintProblem(taint);
        if (!problem.empty()) r.ErrorAt("taints", "taint '" + taint + "' " + problem);
      }
      p.taints = *taints;
    }
    r.Finish();
    c->node_pools.push_back(std::move(p));
  }
  if (!pools.empty()) {
    int64_t workers = 0;
    for (const NodePool& p : c->node_pools) workers += p.count;
    if (workers == 0) {
      diags->Error(top.ValuePos("node_pool"),
                   "the node pools have no workers (every 'count' is 0); give one pool count >= 1");
    }
  }
}

void ReadNetwork(const toml::table& t, ClusterProfile* c, Diagnostics* diags) {
  TableReader r(t, c->file, "[network]", diags);
  ClusterNetwork& n = c->network;
  auto node_cidr = ReadNet<Cidr>(r, "node_cidr", Need::kRequired, ParseCidr);
  auto gateway = ReadNet<Ipv4>(r, "gateway", Need::kRequired, ParseIpv4);
  auto pool = ReadNet<IpRange>(r, "node_ip_pool", Need::kRequired, ParseIpRange);
  auto pod = ReadNet<Cidr>(r, "pod_cidr", Need::kRequired, ParseCidr);
  auto service = ReadNet<Cidr>(r, "service_cidr", Need::kRequired, ParseCidr);
  if (auto dns = r.StringArray("dns", Need::kOptional)) {
    for (const std::string& d : *dns) {
      std::string why;
      if (auto ip = ParseIpv4(d, &why)) {
        n.dns.push_back(*ip);
      } else {
        r.ErrorAt("dns", "'dns': " + why);
      }
    }
  }
  if (auto mode = r.Enum("mode", Need::kOptional, {"nat", "bridge"})) {
    n.mode = *mode == "bridge" ? NetworkMode::kBridge : NetworkMode::kNat;
  }
  if (auto bridge = r.String("bridge", Need::kOptional)) {
    if (!IsInterfaceName(*bridge)) {
      r.ErrorAt("bridge",
                "'bridge' '" + *bridge + "' is not an interface name (1 to 15 characters, no '/', ':' or spaces)");
    } else {
      n.bridge = *bridge;
    }
  }
  if (auto vlan = r.Int("vlan", Need::kOptional, 1, 4094)) {
    if (n.mode != NetworkMode::kBridge) {
      r.ErrorAt("vlan", "'vlan' tags the cluster's frames on the host bridge, so it needs mode = \"bridge\"");
    } else if (!IsInterfaceName(VlanBridgeName(n.bridge, static_cast<int>(*vlan)))) {
      r.ErrorAt("vlan", "with a VLAN, the bridge name '" + n.bridge + "' is too long: the sub-bridge '" +
                            VlanBridgeName(n.bridge, static_cast<int>(*vlan)) +
                            "' must be an interface name of at most 15 characters; use a bridge name of at most 10");
    } else {
      n.vlan = static_cast<int>(*vlan);
    }
  }
  // positions double as "this value parsed" for the checks across sections.
  if (node_cidr) {
    n.node_cidr = *node_cidr;
    c->positions["network.node_cidr"] = r.ValuePos("node_cidr");
  }
  if (gateway) n.gateway = *gateway;
  if (pool) {
    n.node_ip_pool = *pool;
    c->positions["network.node_ip_pool"] = r.ValuePos("node_ip_pool");
  }
  if (pod) n.pod_cidr = *pod;
  if (service) n.service_cidr = *service;

  // Pairwise overlaps of the three address spaces Kubernetes keeps apart.
  struct Named {
    const char* key;
    std::optional<Cidr> cidr;
  };
  Named spaces[] = {{"node_cidr", node_cidr}, {"pod_cidr", pod}, {"service_cidr", service}};
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = i + 1; j < 3; ++j) {
      if (spaces[i].cidr && spaces[j].cidr && spaces[i].cidr->Range().Overlaps(spaces[j].cidr->Range())) {
        r.ErrorAt(spaces[j].key, "'" + std::string(spaces[j].key) + "' " + spaces[j].cidr->ToString() + " overlaps '" +
                                     spaces[i].key + "' " + spaces[i].cidr->ToString());
      }
    }
  }
  if (node_cidr && gateway && !node_cidr->Range().Contains(*gateway)) {
    r.ErrorAt("gateway", "'gateway' " + gateway->ToString() + " is outside 'node_cidr' " + node_cidr->ToString());
  }
  if (node_cidr && pool && !node_cidr->Range().Contains(*pool)) {
    r.ErrorAt("node_ip_pool",
              "'node_ip_pool' " + pool->ToString() + " is not inside 'node_cidr' " + node_cidr->ToString());
  }
  if (pool && gateway && pool->Contains(*gateway)) {
    r.ErrorAt("node_ip_pool", "'node_ip_pool' " + pool->ToString() + " contains the gateway " + gateway->ToString());
  }
  // The network and broadcast addresses of a subnet belong to no machine.
  if (node_cidr && node_cidr->prefix <= 30) {
    IpRange all = node_cidr->Range();
    auto reserved = [&](Ipv4 ip) { return ip == all.first || ip == all.last; };
    if (gateway && reserved(*gateway)) {
      r.ErrorAt("gateway", "'gateway' " + gateway->ToString() + " is the network or broadcast address of 'node_cidr' " +
                               node_cidr->ToString());
    }
    if (pool && (pool->Contains(all.first) || pool->Contains(all.last))) {
      r.ErrorAt("node_ip_pool", "'node_ip_pool' " + pool->ToString() +
                                    " includes the network or broadcast address of 'node_cidr' " +
                                    node_cidr->ToString() + "; keep it within " + Ipv4{all.first.value + 1}.ToString() +
                                    "-" + Ipv4{all.last.value - 1}.ToString());
    }
  }
  if (gateway) c->positions["network.gateway"] = r.ValuePos("gateway");
  r.Finish();
}

void ReadStorage(const toml::table& t, ClusterProfile* c, Diagnostics* diags) {
  TableReader r(t, c->file, "[storage]", diags);
  c->storage_class = ReadDnsName(r, "class_name", Need::kRequired).value_or("");
  if (auto csvs = r.StringArray("csvs", Need::kOptional)) {
    for (const std::string& p : *csvs) {
      if (p.empty() || p[0] != '/')
        r.ErrorAt("csvs", "CSV path '" + p + "' must be absolute (like /ClusterStorage/Volume1)");
    }
    c->storage_csvs = *csvs;
  }
  r.Finish();
}

// Checks that need several sections at once; each runs only when the values
// it compares were read without error.
void CrossCheck(ClusterProfile* c, Diagnostics* diags) {
  const ClusterNetwork& n = c->network;
  const bool vip = c->positions.count("load_balancer.vip_pool") > 0;
  const bool cidr = c->positions.count("network.node_cidr") > 0;
  const bool pool = c->positions.count("network.node_ip_pool") > 0;
  if (vip && cidr && !n.node_cidr.Range().Contains(c->vip_pool)) {
    diags->Error(
        c->positions["load_balancer.vip_pool"],
        "'vip_pool' " + c->vip_pool.ToString() + " is not inside [network] node_cidr " + n.node_cidr.ToString());
  }
  if (vip && pool && c->vip_pool.Overlaps(n.node_ip_pool)) {
    diags->Error(
        c->positions["load_balancer.vip_pool"],
        "'vip_pool' " + c->vip_pool.ToString() + " overlaps [network] node_ip_pool " + n.node_ip_pool.ToString());
  }
  // Windows VMs are named CLUSTER-POOL-N, and that name is the computer name.
  for (const NodePool& p : c->node_pools) {
    if (p.os != "windows" || c->name.empty() || p.name.empty() || p.count < 1) continue;
    std::string longest = c->name + "-" + p.name + "-" + std::to_string(p.count);
    if (longest.size() > kMaxWindowsComputerName) {
      diags->Error(p.pos, "Windows VM name '" + longest + "' is " + std::to_string(longest.size()) +
                              " characters; Windows computer names allow " + std::to_string(kMaxWindowsComputerName) +
                              ". Shorten cluster '" + c->name + "' or pool '" + p.name + "'");
    }
  }
  if (vip && cidr && n.node_cidr.prefix <= 30) {
    IpRange all = n.node_cidr.Range();
    if (c->vip_pool.Contains(all.first) || c->vip_pool.Contains(all.last)) {
      diags->Error(c->positions["load_balancer.vip_pool"], "'vip_pool' " + c->vip_pool.ToString() +
                                                               " includes the network or broadcast address of " +
                                                               n.node_cidr.ToString());
    }
  }
  if (vip && c->positions.count("network.gateway") && c->vip_pool.Contains(n.gateway)) {
    diags->Error(c->positions["load_balancer.vip_pool"],
                 "'vip_pool' " + c->vip_pool.ToString() + " contains the gateway " + n.gateway.ToString());
  }
  int64_t needed = c->TotalVms();
  if (pool && static_cast<int64_t>(n.node_ip_pool.Size()) < needed) {
    diags->Error(c->positions["network.node_ip_pool"],
                 "'node_ip_pool' " + n.node_ip_pool.ToString() + " has " + std::to_string(n.node_ip_pool.Size()) +
                     " addresses, but the cluster has " + std::to_string(needed) + " VMs; widen the pool");
  }
}

}  // namespace

std::optional<ClusterProfile> ReadClusterProfile(const toml::table& root, const std::string& file, Diagnostics* diags,
                                                 ClusterProfile* partial) {
  size_t errors_before = diags->ErrorCount();
  ClusterProfile c;
  c.file = file;
  TableReader top(root, file, "", diags);
  top.Allow("kind");
  c.name = ReadDnsName(top, "name", Need::kRequired).value_or("");
  // Optional: without it the cluster runs the Kubernetes bundle's version
  // (planner.h); with it, the bundle must be that version.
  if (top.Has("kubernetes_version")) c.positions["kubernetes_version"] = top.ValuePos("kubernetes_version");
  if (auto v = top.String("kubernetes_version", Need::kOptional)) {
    if (std::string problem = SemverProblem(*v); !problem.empty()) {
      std::string hint = (!v->empty() && (*v)[0] == 'v' && SemverProblem(v->substr(1)).empty())
                             ? " (write '" + v->substr(1) + "')"
                             : "";
      top.ErrorAt("kubernetes_version", "'kubernetes_version' '" + *v + "' " + problem + hint);
    } else {
      c.kubernetes_version = *v;
    }
  }
  c.encrypt_secrets = top.Bool("encrypt_secrets_at_rest", Need::kOptional).value_or(true);
  if (const toml::table* t = top.Table("control_plane", Need::kRequired)) ReadControlPlane(*t, &c, diags);
  if (const toml::table* t = top.Table("load_balancer", Need::kRequired)) ReadLoadBalancer(*t, &c, diags);
  ReadNodePools(top, &c, diags);
  if (const toml::table* t = top.Table("network", Need::kRequired)) ReadNetwork(*t, &c, diags);
  if (const toml::table* t = top.Table("storage", Need::kRequired)) ReadStorage(*t, &c, diags);
  top.Finish();
  CrossCheck(&c, diags);
  if (partial) *partial = c;
  if (diags->ErrorCount() != errors_before) return std::nullopt;
  return c;
}

}  // namespace slipway::installer
