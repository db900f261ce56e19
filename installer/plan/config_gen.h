// Generated configuration for the VMs of a plan: HAProxy, keepalived,
// kubeadm (v1beta3), an EncryptionConfiguration, cloud-init NoCloud seeds for
// Linux and cloudbase-init for Windows. Pure string building.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/escape.h"
#include "installer/plan/plan.h"

namespace slipway::installer {

struct Backend {
  std::string name;
  std::string ip;
  int port = 6443;
};

/// A complete haproxy.cfg: TCP frontend on `port`, health-checked backends
/// (HTTPS GET /readyz on the API servers). Every value passes through
/// ConfigToken (common/escape.h); one that cannot be a token (a line break,
/// NUL) is an input error, never a line of the file.
Result<std::string> HaproxyApiConfig(const std::string& frontend_name, const std::vector<Backend>& backends,
                                     int port = 6443);

struct VrrpPeer {
  std::string name;
  std::string ip;
};

/// keepalived.conf for one LB VM of a group: VRRP instance holding `vip`,
/// unicast to the other peers, priority by position (first is MASTER), and
/// a check that lowers the priority when HAProxy is not running. Values go
/// through ConfigToken, as in HaproxyApiConfig.
/// `extra_vips` (Service VIPs from `slipway lb sync`) join the API VIP in
/// the same VRRP instance, so they fail over together, but as
/// virtual_ipaddress_excluded: out of the adverts, so that a pair whose
/// Service lists differ during a sync does not split (see the .cc).
Result<std::string> KeepalivedConfig(const std::string& cluster, size_t index, const std::vector<VrrpPeer>& peers,
                                     const std::string& vip, int prefix,
                                     const std::vector<std::string>& extra_vips = {});

/// kubeadm documents for a control-plane or worker VM. The first control
/// plane gets Init+Cluster configuration; the others a control-plane Join;
/// workers a Join. Secrets are {{secret:...}} references.
std::string KubeadmConfig(const PlanCluster& c, const PlanVm& vm, const std::vector<const PlanVm*>& control_planes,
                          const std::string& pod_cidr, const std::string& service_cidr);

/// Quotes config-file values with ConfigToken, keeping the first error, so
/// that a generator can build its text and fail once at the end.
class ConfigTokens {
 public:
  using Escaper = Result<std::string> (*)(std::string_view);
  explicit ConfigTokens(Escaper escaper = &ConfigToken) : escaper_(escaper) {}
  std::string operator()(std::string_view value);
  /// The text, or the first value that could not be a token.
  Result<std::string> Finish(const std::string& file, std::string text) const;

 private:
  Escaper escaper_;
  std::string error_;
};

/// etcd: one member per control plane (kubeadm's external etcd topology).
/// Ports, paths and timings every member shares.
inline constexpr int kEtcdClientPort = 2379;
inline constexpr int kEtcdPeerPort = 2380;
inline constexpr const char* kEtcdDataDir = "/var/lib/etcd/slipway";
inline constexpr const char* kEtcdConfigPath = "/etc/etcd/etcd.yaml";
inline constexpr const char* kEtcdUnitName = "slipway-etcd.service";

/// "NAME=https://IP:2380,..." in the order of `members` (etcd's
/// initial-cluster). Values go through ConfigToken: a name or address that
/// could break the list is an input error.
Result<std::string> EtcdInitialCluster(const std::vector<const PlanVm*>& members);

/// The client URLs of `members` ("https://IP:2379"), in order.
std::vector<std::string> EtcdClientUrls(const std::vector<const PlanVm*>& members);

/// etcd's --config-file for member `self` of `cluster`: TLS on client and
/// peer URLs with client certificates required, every value a YAML
/// double-quoted scalar (YamlQuote). initial-cluster-state is "new";
/// EtcdJoinScript switches it to "existing" for a member that rejoins.
/// REQUIRES: `self` is one of `members`, each with an address.
Result<std::string> EtcdConfig(const std::string& cluster, const PlanVm& self,
                               const std::vector<const PlanVm*>& members);

/// /etc/etcd/member.env: what EtcdJoinScript needs (name, peer URL, data
/// folder, the other members' client URLs), each a ShellQuote'd word.
Result<std::string> EtcdMemberEnv(const PlanVm& self, const std::vector<const PlanVm*>& members);

/// The systemd unit of the member (kEtcdUnitName): Type=notify, the join
/// script before etcd, restarted on failure. The same text for every member.
const std::string& EtcdUnit();

/// /usr/lib/slipway/etcd-join (ExecStartPre): a member with data starts as
/// it is; a member without data (first boot, or a VM recreated after it was
/// lost) asks the other members whether a cluster with a quorum exists. If
/// one does, it removes its old self (matched by peer URL), adds itself
/// again, and starts with initial-cluster-state existing; if none answers,
/// the cluster is forming and it starts with new.
const std::string& EtcdJoinScript();

/// Every file a member's VM needs: the config, member.env, the unit, the
/// join script, the etcd CA and member certificate and key (0600), and
/// kubeadm's copies of the etcd CA and the API server's client certificate
/// and key (0600). Certificates and keys are {{secret:...}} references
/// (issued at apply time, see SecretStore), never text in the plan.
Result<std::vector<PlanFile>> EtcdFiles(const std::string& cluster, const PlanVm& self,
                                        const std::vector<const PlanVm*>& members);

/// EncryptionConfiguration (aescbc, key from a secret reference).
std::string EncryptionConfig(const std::string& cluster);

/// NoCloud seed files for a Linux VM: user-data (with `files` as write_files),
/// meta-data and network-config (v2).
std::vector<PlanFile> NoCloudSeed(const PlanVm& vm);

/// cloudbase-init seed for a Windows VM: user-data (PowerShell) and meta-data.
std::vector<PlanFile> WindowsSeed(const PlanVm& vm, const std::string& api_vip);

/// Every "{{secret:NAME}}" in `text`, in order of first appearance.
std::vector<std::string> SecretRefs(const std::string& text);

}  // namespace slipway::installer
