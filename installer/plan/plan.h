// The deployment Plan: pure data computed from hardware reports and profiles
// (docs/planner.md). The executor only applies it. Every object has a stable
// id; the JSON form is byte-identical for the same inputs. Secrets never
// appear: files carry "{{secret:NAME}}" references filled in at apply time.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/net.h"

namespace slipway::installer {

/// A host VMs are placed on.
struct PlanHost {
  std::string id;      ///< SMBIOS UUID, else serial, else first MAC, else the report origin
  std::string origin;  ///< "sysroot /" or "report r.json"
  std::string hardware_profile;
  int64_t cores = 0;
  uint64_t memory_bytes = 0;
  int64_t vcpu_capacity = 0;     ///< cores x the profile's CPU overcommit ratio
  uint64_t memory_capacity = 0;  ///< memory minus the profile's reservation; never overcommitted
  int64_t vcpus_used = 0;
  uint64_t memory_used = 0;
  std::string libvirt_uri;  ///< empty: the executor's --connect
};

struct PlanCsv {
  std::string id;
  std::string path;
  uint64_t free_bytes = 0;
  uint64_t allocated_bytes = 0;
};

struct PlanNetwork {
  std::string id;    ///< "net/<cluster>"
  std::string name;  ///< libvirt network name
  std::string cluster;
  std::string cidr;
  std::string gateway;
  int prefix = 24;
  NetworkMode mode = NetworkMode::kNat;  ///< nat: libvirt's own network; bridge: the host bridge
  std::string bridge;                    ///< bridge mode: the host bridge the VMs attach to
  int vlan = 0;                          ///< bridge mode: the VMs join VlanBridgeName(bridge, vlan) instead
  /// The Linux bridge the VMs' NICs join (bridge mode).
  std::string AttachBridge() const { return vlan > 0 ? VlanBridgeName(bridge, vlan) : bridge; }
};

/// A libvirt dir pool on one CSV, under <csv>/slipway/.
struct PlanPool {
  std::string id;  ///< "pool/<csv-id>"
  std::string name;
  std::string csv_id;
  std::string path;
};

/// A CSV's storage pool: its libvirt name and its plan id (whose NameUuid is
/// the pool's UUID). The executor recomputes the id from a pool's name to
/// prove, from libvirt alone, that a pool is Slipway's.
inline constexpr std::string_view kPoolNamePrefix = "slipway-";
inline std::string PoolName(std::string_view csv_id) { return std::string(kPoolNamePrefix).append(csv_id); }
inline std::string PoolPlanId(std::string_view csv_id) { return std::string("pool/").append(csv_id); }

/// A node image uploaded once per CSV.
struct PlanBaseVolume {
  std::string id;  ///< "base/<image>/<csv-id>"
  std::string name;
  std::string image;  ///< "linux-node", "loadbalancer", "windows-node"
  std::string pool_id;
  std::string csv_id;
  uint64_t size_bytes = 0;
};

struct PlanDisk {
  std::string id;    ///< "disk/<vm>/<os|data>"
  std::string name;  ///< volume name
  std::string kind;  ///< "os" (qcow2 overlay on base_id) or "data"
  uint64_t size_bytes = 0;
  std::string pool_id;
  std::string csv_id;
  std::string base_id;
};

struct PlanNic {
  std::string network_id;
  std::string mac;
  std::string ip;
  int prefix = 24;
  std::string gateway;
  std::vector<std::string> dns;
};

/// A generated file. `secret_refs` lists the {{secret:...}} it holds.
struct PlanFile {
  std::string path;
  std::string content;
  std::string mode = "0644";
  std::vector<std::string> secret_refs;
};

struct PlanFirmware {
  std::string name;  ///< catalogue entry
  std::string mode;  ///< "bios" or "uefi"
  std::string machine;
  std::string loader;
  std::string nvram_template;
  bool secure_boot = false;
  std::string tpm;  ///< "" or "2.0"
};

struct PlanVm {
  std::string id;  ///< "vm/<cluster>/<name>"
  std::string name;
  std::string uuid;
  std::string cluster;
  std::string role;  ///< "apiserver", "loadbalancer", "control-plane", "worker"
  std::string pool;  ///< node pool name (workers)
  std::string os;    ///< "linux" or "windows"
  std::string image;
  std::string size;
  int64_t vcpus = 0;
  int64_t memory_mib = 0;
  PlanFirmware firmware;
  std::string host_id;
  std::vector<PlanDisk> disks;
  std::vector<PlanNic> nics;
  std::map<std::string, std::string> labels;
  std::vector<std::string> taints;
  std::vector<PlanFile> files;       ///< configuration written inside the VM
  std::vector<PlanFile> seed;        ///< NoCloud user-data/meta-data/network-config (Linux) or cloudbase-init (Windows)
  std::vector<std::string> explain;  ///< why it got its size, CSV and host, and where each value came from
};

struct PlanCluster {
  std::string id;  ///< "cluster/<name>"
  std::string name;
  std::string kind;  ///< "management" or "workload"
  std::string kubernetes_version;
  std::string api_vip;
  std::string network_id;
  std::string vip_pool;
  bool lb_ha = false;
  bool encrypt_secrets = true;
  std::vector<std::string> vms;  ///< vm ids, in creation order
  std::string source;            ///< profile file
};

struct PlanSecret {
  std::string name;  ///< "bootstrap-token/prod"
  std::string kind;  ///< "kubeadm-token", "certificate-key", "aescbc-key", "ssh-authorized-keys", "password"
};

struct Plan {
  std::string schema = "slipway.plan/v1";
  std::string hardware_profile;
  std::vector<PlanHost> hosts;
  std::vector<PlanCsv> csvs;
  std::vector<PlanNetwork> networks;
  std::vector<PlanPool> pools;
  std::vector<PlanBaseVolume> base_volumes;
  std::vector<PlanCluster> clusters;
  std::vector<PlanVm> vms;
  std::vector<PlanSecret> secrets;
  std::vector<std::string> warnings;

  const PlanVm* FindVm(std::string_view id) const;
  const PlanCluster* FindCluster(std::string_view name) const;
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanHost, id, origin, hardware_profile, cores, memory_bytes, vcpu_capacity,
                                   memory_capacity, vcpus_used, memory_used, libvirt_uri)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanCsv, id, path, free_bytes, allocated_bytes)
// Plans written before bridge mode have neither field: NAT.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PlanNetwork, id, name, cluster, cidr, gateway, prefix, mode, bridge,
                                                vlan)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanPool, id, name, csv_id, path)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanBaseVolume, id, name, image, pool_id, csv_id, size_bytes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanDisk, id, name, kind, size_bytes, pool_id, csv_id, base_id)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanNic, network_id, mac, ip, prefix, gateway, dns)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanFile, path, content, mode, secret_refs)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanFirmware, name, mode, machine, loader, nvram_template, secure_boot, tpm)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanVm, id, name, uuid, cluster, role, pool, os, image, size, vcpus, memory_mib,
                                   firmware, host_id, disks, nics, labels, taints, files, seed, explain)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanCluster, id, name, kind, kubernetes_version, api_vip, network_id, vip_pool,
                                   lb_ha, encrypt_secrets, vms, source)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PlanSecret, name, kind)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Plan, schema, hardware_profile, hosts, csvs, networks, pools, base_volumes, clusters,
                                   vms, secrets, warnings)

}  // namespace slipway::installer
