// Plan diff, plan loading and LoadBalancer service rules.
#include "installer/plan/plan_ops.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/atomic_file.h"
#include "common/input_file.h"
#include "common/json_text.h"
#include "common/net.h"
#include "common/strings.h"
#include "installer/plan/config_gen.h"

namespace slipway::installer {

PlanDiff DiffPlans(const Plan& before, const Plan& after) {
  PlanDiff d;
  std::map<std::string, const PlanVm*> a, b;
  for (const PlanVm& vm : before.vms) a[vm.id] = &vm;
  for (const PlanVm& vm : after.vms) b[vm.id] = &vm;
  for (const auto& [id, vm] : a) {
    if (!b.count(id)) d.remove.push_back(id);
  }
  for (const auto& [id, vm] : b) {
    auto it = a.find(id);
    if (it == a.end()) {
      d.add.push_back(id);
      continue;
    }
    const PlanVm& x = *it->second;
    VmChange c{id, {}};
    auto field = [&](const std::string& name, const std::string& from, const std::string& to) {
      if (from != to) c.fields.push_back(name + " " + from + " -> " + to);
    };
    field("size", x.size, vm->size);
    field("vcpus", std::to_string(x.vcpus), std::to_string(vm->vcpus));
    field("memory_mib", std::to_string(x.memory_mib), std::to_string(vm->memory_mib));
    field("firmware", x.firmware.name, vm->firmware.name);
    field("image", x.image, vm->image);
    field("host", x.host_id, vm->host_id);
    field("ip", x.nics.empty() ? "" : x.nics[0].ip, vm->nics.empty() ? "" : vm->nics[0].ip);
    std::string da, db;
    for (const PlanDisk& k : x.disks) da += k.id + "=" + std::to_string(k.size_bytes) + "@" + k.csv_id + " ";
    for (const PlanDisk& k : vm->disks) db += k.id + "=" + std::to_string(k.size_bytes) + "@" + k.csv_id + " ";
    if (da != db) c.fields.push_back("disks changed");
    if (!c.fields.empty()) d.change.push_back(std::move(c));
  }
  return d;
}

Result<Plan> ParsePlan(std::string_view text, const std::string& source) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object() || j.value("schema", "") != "slipway.plan/v1") {
      return Error::Input(source +
                          ": not a Slipway plan (schema is not slipway.plan/v1); make one with 'slipway plan --out'");
    }
    if (std::string at = FirstFloat(j); !at.empty()) {
      return Error::Input(source + ": not a readable plan: " + at + " is not an integer (plans hold only integers)");
    }
    return j.get<Plan>();
  } catch (const nlohmann::json::exception& e) {
    return Error::Input(source + ": not a readable plan: " + e.what());
  }
}

Result<Plan> LoadPlan(const std::string& path) {
  auto text = ReadInputFile(path, kMaxJsonBytes);
  if (!text) return std::move(text).error();
  return ParsePlan(*text, path);
}

std::optional<std::vector<LbService>> ReadLbServices(const toml::table& root, const std::string& file,
                                                     Diagnostics* diags) {
  size_t before = diags->ErrorCount();
  TableReader top(root, file, "", diags);
  top.Allow("kind");
  std::vector<LbService> out;
  std::set<std::string> names;
  for (const toml::table* t : top.TableArray("service", Need::kRequired)) {
    TableReader r(*t, file, "[[service]]", diags);
    LbService s;
    s.name = r.String("name", Need::kRequired).value_or("");
    s.ns = r.String("namespace", Need::kOptional).value_or("default");
    s.port = r.Int("port", Need::kRequired, 1, 65535).value_or(0);
    s.node_port = r.Int("node_port", Need::kRequired, 30000, 32767).value_or(0);
    s.protocol = r.Enum("protocol", Need::kOptional, {"tcp"}).value_or("tcp");
    if (!s.name.empty() && !IsDns1123Label(s.name)) r.ErrorAt("name", "service name '" + s.name + "' is not DNS-1123");
    if (!names.insert(s.ns + "/" + s.name).second)
      r.ErrorAt("name", "service " + s.ns + "/" + s.name + " is listed twice");
    r.Finish();
    out.push_back(std::move(s));
  }
  top.Finish();
  if (diags->ErrorCount() != before) return std::nullopt;
  return out;
}

Result<std::vector<LbRule>> PlanLbRules(const Plan& plan, const std::string& cluster,
                                        const std::vector<LbService>& services) {
  const PlanCluster* c = plan.FindCluster(cluster);
  if (!c) return Error::Input("the plan has no cluster '" + cluster + "'");
  std::string why;
  auto pool = ParseIpRange(c->vip_pool, &why);
  if (!pool) return Error::Input("cluster '" + cluster + "' vip_pool: " + why);
  std::vector<LbService> sorted = services;
  std::sort(sorted.begin(), sorted.end(),
            [](const LbService& a, const LbService& b) { return std::tie(a.ns, a.name) < std::tie(b.ns, b.name); });
  if (sorted.size() + 1 > pool->Size()) {
    return Error::Input("cluster '" + cluster + "' has " + std::to_string(pool->Size()) +
                        " VIPs (one is the API server's) for " + std::to_string(sorted.size()) +
                        " services; widen [load_balancer] vip_pool");
  }
  std::vector<std::string> workers;
  for (const std::string& id : c->vms) {
    const PlanVm* vm = plan.FindVm(id);
    if (vm && vm->role == "worker") workers.push_back(vm->nics.at(0).ip);
  }
  std::vector<LbRule> rules;
  uint32_t next = pool->first.value + 1;
  for (const LbService& s : sorted) {
    LbRule r{s, Ipv4{next++}.ToString(), {}};
    for (const std::string& ip : workers) r.backends.push_back(ip + ":" + std::to_string(s.node_port));
    rules.push_back(std::move(r));
  }
  return rules;
}

Result<std::string> RenderLbConfig(const Plan& plan, const std::string& cluster, const std::vector<LbRule>& rules) {
  const PlanCluster* c = plan.FindCluster(cluster);
  if (!c) return Error::Input("the plan has no cluster '" + cluster + "'");
  std::vector<Backend> api;
  for (const std::string& id : c->vms) {
    const PlanVm* vm = plan.FindVm(id);
    if (vm && (vm->role == "control-plane" || vm->role == "apiserver"))
      api.push_back({vm->name, vm->nics.at(0).ip, 6443});
  }
  auto api_cfg = HaproxyApiConfig("kube-apiserver", api);
  if (!api_cfg) return api_cfg;
  ConfigTokens tok;
  std::string out = std::move(*api_cfg);
  for (const LbRule& r : rules) {
    // One frontend per Service port: "svc-NAMESPACE-NAME-PORT".
    std::string name = "svc-" + r.service.ns + "-" + r.service.name + "-" + std::to_string(r.service.port);
    // The comment is a value too: a line break in it would start a new line.
    out += "\n# Service " + tok(r.service.ns + "/" + r.service.name) +
           " (type LoadBalancer)\n"
           "frontend " +
           tok(name) +
           "\n"
           "    bind " +
           tok(r.vip + ":" + std::to_string(r.service.port)) +
           " transparent\n"
           "    default_backend " +
           tok(name + "-nodes") +
           "\n"
           "\n"
           "backend " +
           tok(name + "-nodes") +
           "\n"
           "    balance roundrobin\n"
           "    option tcp-check\n"
           "    default-server check inter 2s fall 3 rise 2\n";
    for (size_t i = 0; i < r.backends.size(); ++i) {
      out += "    server node" + std::to_string(i + 1) + " " + tok(r.backends[i]) + "\n";
    }
  }
  return tok.Finish("haproxy.cfg", std::move(out));
}

}  // namespace slipway::installer
