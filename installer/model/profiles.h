// The profile files a user writes (docs/profiles.md): the VM size catalogue,
// hardware profiles, workload cluster profiles and fleet answer files. Each
// Read* function validates one parsed TOML table strictly, reports every
// mistake to `diags` with its location, and returns nothing if any was found.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.h"
#include "common/net.h"
#include "common/toml_reader.h"
#include "installer/model/install_disk_rule.h"

namespace slipway::installer {

/// A VM size, modelled on AKS hybrid's (Standard_A4_v2 = 4 vCPU / 8 GiB).
struct VmSize {
  std::string name;
  int64_t vcpus = 0;
  int64_t memory_mib = 0;  ///< from memory_gib or memory_mib
  int64_t os_disk_gib = 0;
  SourcePos pos;
};

struct VmSizeCatalog {
  std::string file;
  std::vector<VmSize> sizes;
  const VmSize* Find(std::string_view name) const;
  std::vector<std::string> Names() const;
};

/// Match rules: what a host needs for a hardware profile to apply.
struct MatchRules {
  int64_t min_cores = 1;
  int64_t min_memory_gib = 1;
  int64_t min_data_disks = 0;
  int64_t min_csvs = 1;
  int64_t min_csv_free_gib = 0;  ///< total free space over all CSVs
  bool require_virtualization = true;
  bool require_nic_link = true;
  std::string firmware = "any";  ///< "uefi", "bios" or "any"
  bool secure_boot = false;      ///< the host must boot with Secure Boot enforced
  std::string tpm = "any";       ///< "2.0": the host must have a TPM 2.0; "any"
};

struct HardwareProfile {
  std::string name;
  std::string description;
  std::string file;
  MatchRules match;
  std::string apiserver_size;     ///< management cluster API-server VM size
  std::string loadbalancer_size;  ///< management cluster load-balancer VM size
  std::string management_firmware = "uefi";
  double cpu_overcommit_ratio = 4.0;
  int64_t reserved_memory_gib = 4;  ///< kept for the host itself, never given to VMs
  /// [install_disk]: the disk the host system goes to, for hosts whose
  /// answer file names none. Absent: a live install (state on the first CSV).
  std::optional<InstallDiskRule> install_disk;
  std::map<std::string, SourcePos> positions;  ///< "match.min_cores" -> where it was set
};

struct NodePool {
  std::string name;
  std::string os;  ///< "linux" or "windows"
  int64_t count = 0;
  std::string size;
  std::string firmware;
  int64_t data_disk_gib = 0;
  std::map<std::string, std::string> labels;
  std::vector<std::string> taints;  ///< "key=value:Effect"
  SourcePos pos;
  SourcePos size_pos;
  SourcePos firmware_pos;
};

struct ClusterNetwork {
  Cidr node_cidr;
  Ipv4 gateway;
  IpRange node_ip_pool;
  Cidr pod_cidr;
  Cidr service_cidr;
  std::vector<Ipv4> dns;
  NetworkMode mode = NetworkMode::kNat;
  std::string bridge = kDefaultHostBridge;  ///< the host bridge (bridge mode)
  int vlan = 0;                             ///< bridge mode: 802.1Q tag, 0 = untagged
};

struct ClusterProfile {
  std::string name;
  std::string file;
  std::string kubernetes_version;
  int64_t control_plane_count = 1;
  std::string control_plane_size;
  std::string control_plane_firmware = "uefi";
  int64_t load_balancer_count = 1;
  std::string load_balancer_size;
  std::string load_balancer_firmware = "uefi";
  bool load_balancer_ha = false;
  IpRange vip_pool;
  std::vector<NodePool> node_pools;
  ClusterNetwork network;
  std::string storage_class;
  std::vector<std::string> storage_csvs;  ///< empty: all CSVs
  bool encrypt_secrets = true;
  std::map<std::string, SourcePos> positions;

  int64_t TotalVms() const;
};

struct HostNetwork {
  std::optional<std::pair<Ipv4, int>> address;  ///< static address/prefix
  std::optional<Ipv4> gateway;
  std::vector<Ipv4> dns;
  std::optional<Ipv4> vip;  ///< management cluster API VIP
  /// How the management cluster's VMs reach the network: nat (libvirt's
  /// own network on the host's subnet, for labs) or bridge (the host bridge
  /// on the uplink NIC, carrying the host's address, as AKS hybrid's external
  /// switch).
  NetworkMode mode = NetworkMode::kNat;
  std::string uplink;  ///< bridge mode: NIC name or MAC; "" = the NIC that matched, else the first with link
  std::string bridge;  ///< bridge mode: the bridge's name; "" = kDefaultHostBridge
};

/// One [[host]] entry (or [defaults]) of a fleet answer file.
struct FleetHost {
  std::string name;
  std::optional<Mac> mac;
  std::string serial;
  std::string uuid;  ///< lower case
  std::string hardware_profile;
  std::vector<std::string> clusters;
  HostNetwork network;
  std::vector<std::string> ssh_authorized_keys;
  std::string libvirt_uri;
  /// [host.install_disk] / [defaults.install_disk]; see InstallDiskRule.
  std::optional<InstallDiskRule> install_disk;
  SourcePos pos;
  std::map<std::string, SourcePos> positions;
};

struct Fleet {
  std::string file;
  FleetHost defaults;
  std::vector<FleetHost> hosts;
};

// When `partial` is given it receives what could be read even when errors
// were found, so cross-file checks can still run (slipway check reports all).
std::optional<VmSizeCatalog> ReadVmSizes(const toml::table& root, const std::string& file, Diagnostics* diags);
std::optional<HardwareProfile> ReadHardwareProfile(const toml::table& root, const std::string& file, Diagnostics* diags,
                                                   HardwareProfile* partial = nullptr);
std::optional<ClusterProfile> ReadClusterProfile(const toml::table& root, const std::string& file, Diagnostics* diags,
                                                 ClusterProfile* partial = nullptr);
std::optional<Fleet> ReadFleet(const toml::table& root, const std::string& file, Diagnostics* diags,
                               Fleet* partial = nullptr);

/// Reads an optional "name" and checks it is a DNS-1123 label.
std::optional<std::string> ReadDnsName(TableReader& r, std::string_view key, Need need);

/// Validates a Kubernetes taint "key=value:Effect" (value optional); returns
/// the reason it is invalid, or "".
std::string TaintProblem(std::string_view taint);

/// Validates a Kubernetes label key ("[prefix/]name"); returns the reason, or "".
std::string LabelKeyProblem(std::string_view key);

/// Validates a Kubernetes label (or taint) value: empty, or at most 63 of
/// [A-Za-z0-9-_.] beginning and ending with an alphanumeric. "" when valid.
std::string LabelValueProblem(std::string_view value);

/// Validates a semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (no leading
/// zeros, no 'v'). "" when valid.
std::string SemverProblem(std::string_view version);

/// Windows computer names (NetBIOS) allow at most this many characters.
inline constexpr size_t kMaxWindowsComputerName = 15;

}  // namespace slipway::installer
