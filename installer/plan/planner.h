// MakePlan: hardware reports + a hardware profile + cluster profiles -> Plan.
// Pure: no libvirt, no disk writes, no clock, no randomness.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/net.h"
#include "firmware/vm_firmware.h"
#include "installer/detect/hardware_report.h"
#include "installer/model/profiles.h"
#include "installer/plan/plan.h"

namespace slipway::installer {

struct PlanHostInput {
  HardwareReport report;
  std::string origin;
  std::string libvirt_uri;
};

/// The management cluster's network. Defaults documented in docs/planner.md.
struct ManagementNetwork {
  std::string cidr = "172.31.0.0/24";
  std::string gateway = "172.31.0.1";
  std::string vip = "172.31.0.2";
  std::string node_ip_pool = "172.31.0.10-172.31.0.99";
  std::vector<std::string> dns = {"172.31.0.1"};
  /// nat: libvirt's own network on `cidr`; bridge: the VMs join the host
  /// bridge, on the host's own subnet (the answer file's mode = "bridge").
  NetworkMode mode = NetworkMode::kNat;
  std::string bridge;
};

struct PlanInputs {
  std::vector<PlanHostInput> hosts;
  const HardwareProfile* profile = nullptr;
  std::vector<const ClusterProfile*> clusters;
  const VmSizeCatalog* sizes = nullptr;
  const firmware::FirmwareCatalog* firmware = nullptr;
  ManagementNetwork management;
  /// The Kubernetes version of the bundle in the node images ("" when the
  /// images carry none). A cluster without kubernetes_version gets it; one
  /// with a different version is refused. Without a bundle the plan warns
  /// kNoKubernetesBundle (common/kubernetes.h).
  std::string kubernetes_bundle_version;
  /// Size of each node image's base volume, per CSV (GiB).
  std::map<std::string, int64_t> image_gib = {{"linux-node", 4}, {"loadbalancer", 2}, {"windows-node", 40}};
};

/// Computes the plan. Errors: kHostUnsuitable (exit 3) when the hosts or CSVs
/// cannot hold the clusters, with what is missing and what to change;
/// kInput (exit 2) for inconsistent inputs.
Result<Plan> MakePlan(const PlanInputs& in);

/// The best hardware profile that fits every host ("--profile auto"), or an
/// error naming what each host lacks.
Result<const HardwareProfile*> ChooseProfile(const std::vector<PlanHostInput>& hosts,
                                             const std::vector<HardwareProfile>& profiles);

/// A host's stable id: SMBIOS UUID, else serial, else first physical MAC,
/// else `fallback`.
std::string HostId(const HardwareReport& r, const std::string& fallback);

/// "02:53:57:xx:xx:xx": locally administered, derived from cluster and VM name.
std::string VmMac(std::string_view cluster, std::string_view vm, int salt = 0);

}  // namespace slipway::installer
