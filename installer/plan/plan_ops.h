// Operations on finished plans: diff (the basis of day-2 scaling) and the
// HAProxy rules for Services of type LoadBalancer.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.h"
#include "common/error.h"
#include "common/toml_reader.h"
#include "installer/plan/plan.h"

namespace slipway::installer {

struct VmChange {
  std::string id;
  std::vector<std::string> fields;  ///< "vcpus 4 -> 8"
};

struct PlanDiff {
  std::vector<std::string> add;     ///< vm ids
  std::vector<std::string> remove;  ///< vm ids
  std::vector<VmChange> change;
  bool Empty() const { return add.empty() && remove.empty() && change.empty(); }
};

/// VMs to add, remove or change from `before` to `after`, sorted by id.
PlanDiff DiffPlans(const Plan& before, const Plan& after);

/// Parses plan JSON text; `source` names it in errors (input errors, exit 2).
Result<Plan> ParsePlan(std::string_view text, const std::string& source);

/// Reads a plan written by `slipway plan --out`. Errors name the file.
Result<Plan> LoadPlan(const std::string& path);

/// A Kubernetes Service of type LoadBalancer, as the LB VMs see it.
struct LbService {
  std::string name;
  std::string ns = "default";
  int64_t port = 0;
  int64_t node_port = 0;
  std::string protocol = "tcp";
};

/// Reads [[service]] tables (name, namespace, port, node_port, protocol).
std::optional<std::vector<LbService>> ReadLbServices(const toml::table& root, const std::string& file,
                                                     Diagnostics* diags);

struct LbRule {
  LbService service;
  std::string vip;
  std::vector<std::string> backends;  ///< "ip:node_port" of every worker
};

/// Gives each service a VIP from the cluster's pool (after the API VIP; in
/// namespace/name order, so the same services keep the same VIPs) and the
/// cluster's workers as backends. Errors when the pool is too small.
Result<std::vector<LbRule>> PlanLbRules(const Plan& plan, const std::string& cluster,
                                        const std::vector<LbService>& services);

/// The full haproxy.cfg for the cluster's LB VMs: the API frontend plus one
/// frontend/backend pair per service rule.
Result<std::string> RenderLbConfig(const Plan& plan, const std::string& cluster, const std::vector<LbRule>& rules);

}  // namespace slipway::installer
