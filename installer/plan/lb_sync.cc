// Services of type LoadBalancer to load-balancer rules.
#include "installer/plan/lb_sync.h"

#include <algorithm>
#include <set>

#include "common/json_text.h"
#include "common/net.h"
#include "common/strings.h"

namespace slipway::installer {

namespace {

using nlohmann::json;

// A field of `j` of the given JSON type, or an error naming where it is.
Result<const json*> Field(const json& j, const std::string& key, json::value_t type, const std::string& where,
                          bool required) {
  if (!j.is_object() || !j.contains(key)) {
    if (!required) return static_cast<const json*>(nullptr);
    return Error::Input(where + ": '" + key + "' is missing");
  }
  const json& v = j.at(key);
  bool ok = v.type() == type || (type == json::value_t::number_integer && v.is_number_unsigned());
  if (!ok)
    return Error::Input(where + ": '" + key + "' is a " + v.type_name() + ", expected a " + json(type).type_name());
  return &v;
}

}  // namespace

Result<std::vector<LbServiceSpec>> ParseServiceList(std::string_view text, const std::string& source,
                                                    std::vector<std::string>* warnings) {
  json root;
  try {
    root = json::parse(text.begin(), text.end(), nullptr, true, false);
  } catch (const json::exception& e) {
    return Error::Input(source + ": not JSON: " + SanitizeForDisplay(e.what()));
  }
  if (!root.is_object()) return Error::Input(source + ": expected a v1 ServiceList object");
  std::string api = root.value("apiVersion", std::string());
  std::string kind = root.value("kind", std::string());
  if (api != "v1" || (kind != "List" && kind != "ServiceList")) {
    return Error::Input(source +
                        ": expected apiVersion \"v1\" and kind \"List\" or \"ServiceList\" (what 'kubectl get "
                        "svc -A -o json' prints), found apiVersion \"" +
                        SanitizeForDisplay(api) + "\" and kind \"" + SanitizeForDisplay(kind) + "\"");
  }
  auto items = Field(root, "items", json::value_t::array, source, true);
  if (!items) return std::move(items).error();
  std::vector<LbServiceSpec> out;
  std::set<std::string> seen;
  size_t index = 0;
  for (const json& item : **items) {
    std::string where = source + ": items[" + std::to_string(index++) + "]";
    if (!item.is_object()) return Error::Input(where + ": not an object");
    if (item.contains("kind") && item["kind"] != "Service") {
      return Error::Input(where + ": kind is " + SanitizeForDisplay(item["kind"].dump()) + ", not \"Service\"");
    }
    auto meta = Field(item, "metadata", json::value_t::object, where, true);
    if (!meta) return std::move(meta).error();
    auto name = Field(**meta, "name", json::value_t::string, where + ".metadata", true);
    if (!name) return std::move(name).error();
    auto ns = Field(**meta, "namespace", json::value_t::string, where + ".metadata", false);
    if (!ns) return std::move(ns).error();
    LbServiceSpec s;
    s.name = (*name)->get<std::string>();
    s.ns = *ns ? (*ns)->get<std::string>() : "default";
    if (!IsDns1123Label(s.name) || !IsDns1123Label(s.ns)) {
      return Error::Input(where + ": Service '" + SanitizeForDisplay(s.ns) + "/" + SanitizeForDisplay(s.name) +
                          "': names and namespaces are DNS-1123 labels");
    }
    where += " (" + s.Key() + ")";
    auto spec = Field(item, "spec", json::value_t::object, where, true);
    if (!spec) return std::move(spec).error();
    auto type = Field(**spec, "type", json::value_t::string, where + ".spec", false);
    if (!type) return std::move(type).error();
    if (!*type || (*type)->get<std::string>() != "LoadBalancer") continue;  // ClusterIP, NodePort, ...
    if (!seen.insert(s.Key()).second) return Error::Input(where + ": listed twice");
    auto lbip = Field(**spec, "loadBalancerIP", json::value_t::string, where + ".spec", false);
    if (!lbip) return std::move(lbip).error();
    if (*lbip && !(*lbip)->get<std::string>().empty()) {
      std::string why;
      s.load_balancer_ip = (*lbip)->get<std::string>();
      if (!ParseIpv4(s.load_balancer_ip, &why)) {
        return Error::Input(where + ": spec.loadBalancerIP '" + SanitizeForDisplay(s.load_balancer_ip) + "': " + why);
      }
    }
    auto ports = Field(**spec, "ports", json::value_t::array, where + ".spec", true);
    if (!ports) return std::move(ports).error();
    size_t pi = 0;
    std::set<int64_t> port_numbers;
    for (const json& p : **ports) {
      std::string pw = where + ".spec.ports[" + std::to_string(pi++) + "]";
      auto protocol = Field(p, "protocol", json::value_t::string, pw, false);
      if (!protocol) return std::move(protocol).error();
      std::string proto = *protocol ? (*protocol)->get<std::string>() : "TCP";
      auto port = Field(p, "port", json::value_t::number_integer, pw, true);
      if (!port) return std::move(port).error();
      auto node_port = Field(p, "nodePort", json::value_t::number_integer, pw, false);
      if (!node_port) return std::move(node_port).error();
      auto pname = Field(p, "name", json::value_t::string, pw, false);
      if (!pname) return std::move(pname).error();
      ServicePort sp;
      sp.name = *pname ? (*pname)->get<std::string>() : "";
      sp.port = (*port)->get<int64_t>();
      if (sp.port < 1 || sp.port > 65535)
        return Error::Input(pw + ": port " + std::to_string(sp.port) + " is not 1-65535");
      if (proto != "TCP") {
        if (warnings) {
          warnings->push_back(s.Key() + " port " + std::to_string(sp.port) + "/" + SanitizeForDisplay(proto) +
                              ": skipped; the load balancers balance TCP only");
        }
        continue;
      }
      if (!*node_port) {
        return Error::Input(pw +
                            ": no nodePort (spec.allocateLoadBalancerNodePorts is false?); the load balancers "
                            "forward to every worker's NodePort");
      }
      sp.node_port = (*node_port)->get<int64_t>();
      if (sp.node_port < 30000 || sp.node_port > 32767) {
        return Error::Input(pw + ": nodePort " + std::to_string(sp.node_port) + " is outside 30000-32767");
      }
      if (!port_numbers.insert(sp.port).second) {
        return Error::Input(pw + ": port " + std::to_string(sp.port) + " is listed twice");
      }
      s.ports.push_back(sp);
    }
    if (s.ports.empty()) {
      if (warnings) warnings->push_back(s.Key() + ": no TCP port; it gets no rule");
      continue;
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.Key() < b.Key(); });
  return out;
}

std::vector<LbServiceSpec> FromLbServices(const std::vector<LbService>& services) {
  std::vector<LbServiceSpec> out;
  for (const LbService& s : services) out.push_back({s.ns, s.name, {{"", s.port, s.node_port}}, ""});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.Key() < b.Key(); });
  return out;
}

Result<std::map<std::string, std::string>> AssignVips(const Plan& plan, const std::string& cluster,
                                                      const std::vector<LbServiceSpec>& services,
                                                      const std::map<std::string, std::string>& previous) {
  const PlanCluster* c = plan.FindCluster(cluster);
  if (!c) return Error::Input("the plan has no cluster '" + cluster + "'");
  std::string why;
  auto pool = ParseIpRange(c->vip_pool, &why);
  if (!pool) return Error::Input("cluster '" + cluster + "' vip_pool: " + why);
  auto api = ParseIpv4(c->api_vip, &why);
  std::set<uint32_t> taken;
  if (api) taken.insert(api->value);
  std::map<std::string, std::string> out;
  // Kept first, so that no new service takes a kept one's VIP.
  for (const LbServiceSpec& s : services) {
    auto it = previous.find(s.Key());
    if (it == previous.end()) continue;
    auto ip = ParseIpv4(it->second, &why);
    if (!ip || !pool->Contains(*ip) || taken.count(ip->value)) continue;  // a stale record: assign anew
    taken.insert(ip->value);
    out[s.Key()] = it->second;
  }
  for (const LbServiceSpec& s : services) {
    if (out.count(s.Key()) || s.load_balancer_ip.empty()) continue;
    auto ip = ParseIpv4(s.load_balancer_ip, &why);
    if (!pool->Contains(*ip)) {
      return Error::Input("Service " + s.Key() + ": loadBalancerIP " + s.load_balancer_ip + " is outside cluster '" +
                          cluster + "' vip_pool " + c->vip_pool);
    }
    if (taken.count(ip->value)) {
      return Error::Input("Service " + s.Key() + ": loadBalancerIP " + s.load_balancer_ip +
                          " is already the API VIP or another Service's");
    }
    taken.insert(ip->value);
    out[s.Key()] = s.load_balancer_ip;
  }
  uint32_t next = pool->first.value;
  for (const LbServiceSpec& s : services) {
    if (out.count(s.Key())) continue;
    while (next <= pool->last.value && taken.count(next)) ++next;
    if (next > pool->last.value || next < pool->first.value) {
      return Error::Input("cluster '" + cluster + "' vip_pool " + c->vip_pool + " has no free VIP for Service " +
                          s.Key() + " (" + std::to_string(services.size()) +
                          " Services); widen [load_balancer] vip_pool");
    }
    taken.insert(next);
    out[s.Key()] = Ipv4{next}.ToString();
  }
  return out;
}

Result<std::vector<LbRule>> SyncRules(const Plan& plan, const std::string& cluster,
                                      const std::vector<LbServiceSpec>& services,
                                      const std::map<std::string, std::string>& vips) {
  const PlanCluster* c = plan.FindCluster(cluster);
  if (!c) return Error::Input("the plan has no cluster '" + cluster + "'");
  std::vector<std::string> workers;
  for (const std::string& id : c->vms) {
    const PlanVm* vm = plan.FindVm(id);
    if (vm && vm->role == "worker" && !vm->nics.empty()) workers.push_back(vm->nics[0].ip);
  }
  std::vector<LbRule> rules;
  for (const LbServiceSpec& s : services) {
    auto vip = vips.find(s.Key());
    if (vip == vips.end()) return Error::Input("Service " + s.Key() + " has no VIP");
    for (const ServicePort& p : s.ports) {
      LbRule r{{s.name, s.ns, p.port, p.node_port, "tcp"}, vip->second, {}};
      for (const std::string& ip : workers) r.backends.push_back(ip + ":" + std::to_string(p.node_port));
      rules.push_back(std::move(r));
    }
  }
  return rules;
}

json IngressList(const std::vector<LbServiceSpec>& services, const std::map<std::string, std::string>& vips) {
  json items = json::array();
  for (const LbServiceSpec& s : services) {
    auto vip = vips.find(s.Key());
    if (vip == vips.end()) continue;
    items.push_back({{"apiVersion", "v1"},
                     {"kind", "Service"},
                     {"metadata", {{"name", s.name}, {"namespace", s.ns}}},
                     {"status", {{"loadBalancer", {{"ingress", json::array({{{"ip", vip->second}}})}}}}}});
  }
  return {{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}};
}

}  // namespace slipway::installer
