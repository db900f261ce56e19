// Services of type LoadBalancer, as the Kubernetes API lists them, turned
// into load-balancer rules (slipway lb sync). Pure: the JSON comes in as
// text, the previous VIP assignment as a map; the CLI reads and writes
// files and runs haproxy -c / keepalived -t.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "installer/plan/plan.h"
#include "installer/plan/plan_ops.h"

namespace slipway::installer {

struct ServicePort {
  std::string name;  ///< "" for a single unnamed port
  int64_t port = 0;
  int64_t node_port = 0;
};

/// One Service of type LoadBalancer.
struct LbServiceSpec {
  std::string ns;
  std::string name;
  std::vector<ServicePort> ports;  ///< TCP ports only
  std::string load_balancer_ip;    ///< spec.loadBalancerIP, "" when unset
  std::string Key() const { return ns + "/" + name; }
};

/// Reads what `kubectl get svc -A -o json` prints: {"apiVersion": "v1",
/// "kind": "List" (or "ServiceList"), "items": [Service...]}, strictly: a
/// wrong type, a missing name or port, a nodePort out of 30000-32767 is an
/// error naming the item. Services of other types are skipped; ports that
/// are not TCP are skipped with a warning (HAProxy here balances TCP).
Result<std::vector<LbServiceSpec>> ParseServiceList(std::string_view json, const std::string& source,
                                                    std::vector<std::string>* warnings);

/// The TOML form of `lb render` ([[service]] name, namespace, port,
/// node_port), as the same specs (one port each).
std::vector<LbServiceSpec> FromLbServices(const std::vector<LbService>& services);

/// VIPs for `services` from the cluster's vip_pool, stable across syncs:
/// a service in `previous` keeps its VIP; a new one gets its
/// loadBalancerIP when that is inside the pool and free, else the lowest
/// free address after the API VIP. Removed services free theirs. Errors: a
/// loadBalancerIP outside the pool or taken, or the pool is full.
Result<std::map<std::string, std::string>> AssignVips(const Plan& plan, const std::string& cluster,
                                                      const std::vector<LbServiceSpec>& services,
                                                      const std::map<std::string, std::string>& previous);

/// One rule per Service port, on the service's VIP, to every worker's
/// NodePort; in namespace/name/port order.
Result<std::vector<LbRule>> SyncRules(const Plan& plan, const std::string& cluster,
                                      const std::vector<LbServiceSpec>& services,
                                      const std::map<std::string, std::string>& vips);

/// What each Service's status should become, as the API writes it: a v1
/// List of Services with metadata and status.loadBalancer.ingress only.
nlohmann::json IngressList(const std::vector<LbServiceSpec>& services, const std::map<std::string, std::string>& vips);

}  // namespace slipway::installer
