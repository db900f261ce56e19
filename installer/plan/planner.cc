// The planner: clusters -> VMs -> hosts and CSVs -> generated configuration.
#include "installer/plan/planner.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/hash.h"
#include "common/kubernetes.h"
#include "common/lb_apply.h"
#include "common/strings.h"
#include "installer/detect/match.h"
#include "installer/plan/config_gen.h"
#include "installer/plan/placement.h"

namespace slipway::installer {

namespace {

constexpr uint64_t kGiB = 1ull << 30;

std::string At(const std::map<std::string, SourcePos>& positions, const std::string& key, const std::string& file) {
  auto it = positions.find(key);
  if (it == positions.end() || it->second.line == 0) return "the default (not set in " + file + ")";
  return it->second.file + ":" + std::to_string(it->second.line);
}

std::string PosText(const SourcePos& p, const std::string& file) {
  return p.line ? p.file + ":" + std::to_string(p.line) : "the default (not set in " + file + ")";
}

// Addresses handed out in order from a pool.
class IpAllocator {
 public:
  IpAllocator(IpRange range, std::string what) : range_(range), next_(range.first.value), what_(std::move(what)) {}
  Result<std::string> Next() {
    if (next_ > range_.last.value || next_ < range_.first.value) {
      return Error::Input(what_ + " " + range_.ToString() + " has no address left");
    }
    return Ipv4{next_++}.ToString();
  }

 private:
  IpRange range_;
  uint32_t next_;
  std::string what_;
};

struct ClusterSpec {
  PlanCluster cluster;
  const ClusterProfile* profile = nullptr;  // null for management
  PlanNetwork network;
  std::string pod_cidr;
  std::string service_cidr;
  std::vector<std::string> dns;
  std::string gateway;
  int prefix = 24;
};

PlanFirmware ResolveFirmware(const firmware::VmFirmware& f) {
  return {
      f.name,       std::string(firmware::BootModeName(f.mode)), f.machine, f.loader, f.nvram_template, f.secure_boot,
      f.tpm_version};
}

class Planner {
 public:
  explicit Planner(const PlanInputs& in) : in_(in) {}

  Result<Plan> Run() {
    if (auto st = Hosts(); !st) return std::move(st).error();
    if (auto st = Csvs(); !st) return std::move(st).error();
    if (auto st = Clusters(); !st) return std::move(st).error();
    // First, so that no one reads the plan as a finished Kubernetes cluster.
    if (in_.kubernetes_bundle_version.empty()) plan_.warnings.push_back(kNoKubernetesBundle);
    if (auto st = PlaceOnHosts(plan_.hosts, &plan_.vms, VmGroups(), &plan_.warnings); !st) {
      return std::move(st).error();
    }
    if (auto st = PlaceOnCsvs(plan_.csvs, plan_.pools, in_.image_gib, &plan_.vms, &plan_.base_volumes); !st) {
      return std::move(st).error();
    }
    if (auto st = Configs(); !st) return std::move(st).error();
    Secrets();
    return std::move(plan_);
  }

 private:
  Status Hosts() {
    if (in_.hosts.empty()) return Error::Input("no host given; pass --sysroot DIR or --hardware REPORT.json");
    std::set<std::string> ids;
    const HardwareProfile& p = *in_.profile;
    plan_.hardware_profile = p.name;
    for (const PlanHostInput& h : in_.hosts) {
      PlanHost ph;
      ph.id = HostId(h.report, h.origin);
      if (!ids.insert(ph.id).second) {
        return Error::Input("host " + ph.id + " is given twice (" + h.origin + "); give each host once");
      }
      ph.origin = h.origin;
      ph.hardware_profile = p.name;
      ph.cores = h.report.cpu.cores.value_or(0);
      ph.memory_bytes = h.report.memory_bytes.value_or(0);
      if (!h.report.cpu.cores.ok() || !h.report.memory_bytes.ok()) {
        return Error::HostUnsuitable("host " + ph.id + ": cores or memory unknown (" + h.report.cpu.cores.unknown +
                                     h.report.memory_bytes.unknown + "); the planner cannot size VMs for it");
      }
      ph.vcpu_capacity = static_cast<int64_t>(std::floor(static_cast<double>(ph.cores) * p.cpu_overcommit_ratio));
      uint64_t reserved = static_cast<uint64_t>(p.reserved_memory_gib) * kGiB;
      ph.memory_capacity = ph.memory_bytes > reserved ? ph.memory_bytes - reserved : 0;
      ph.libvirt_uri = h.libvirt_uri;
      plan_.hosts.push_back(std::move(ph));
    }
    std::sort(plan_.hosts.begin(), plan_.hosts.end(), [](const PlanHost& a, const PlanHost& b) { return a.id < b.id; });
    return Ok();
  }

  Status Csvs() {
    std::map<std::string, PlanCsv> by_id;
    for (const PlanHostInput& h : in_.hosts) {
      for (const Csv& c : h.report.csvs) {
        if (!c.writable || !c.free_bytes.ok()) continue;
        auto [it, inserted] = by_id.emplace(c.id, PlanCsv{c.id, c.path, *c.free_bytes, 0});
        // The same shared volume seen from two hosts: keep the smaller free figure.
        if (!inserted) it->second.free_bytes = std::min(it->second.free_bytes, *c.free_bytes);
      }
    }
    if (by_id.empty()) {
      return Error::HostUnsuitable(
          "no writable CSV with a known free space: VM data needs shared storage; mount it under "
          "/ClusterStorage/VolumeN or name a folder with --csv PATH");
    }
    for (auto& [id, c] : by_id) {
      plan_.csvs.push_back(c);
      plan_.pools.push_back({PoolPlanId(id), PoolName(id), id, c.path + "/slipway"});
    }
    return Ok();
  }

  // Builds the VMs of the management cluster and each workload cluster.
  Status Clusters() {
    const HardwareProfile& p = *in_.profile;
    std::vector<const ClusterProfile*> sorted = in_.clusters;
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
    for (size_t i = 1; i < sorted.size(); ++i) {
      if (sorted[i]->name == sorted[i - 1]->name) {
        return Error::Input("cluster '" + sorted[i]->name + "' is given twice (" + sorted[i - 1]->file + ", " +
                            sorted[i]->file + ")");
      }
    }
    for (const ClusterProfile* c : sorted) {
      if (c->name == "mgmt")
        return Error::Input(c->file + ": the cluster name 'mgmt' is reserved for the management cluster");
    }
    if (auto st = Management(p); !st) return st;
    for (const ClusterProfile* c : sorted) {
      if (auto st = Workload(*c); !st) return st;
    }
    return Ok();
  }

  Status AddNetwork(ClusterSpec* spec, const std::string& cidr_text) {
    std::string why;
    auto cidr = ParseCidr(cidr_text, &why);
    if (!cidr) return Error::Input("management network: " + why);
    spec->network = {"net/" + spec->cluster.name,
                     "slipway-" + spec->cluster.name,
                     spec->cluster.name,
                     cidr_text,
                     spec->gateway,
                     cidr->prefix,
                     NetworkMode::kNat,
                     ""};
    spec->prefix = cidr->prefix;
    spec->cluster.network_id = spec->network.id;
    plan_.networks.push_back(spec->network);
    return Ok();
  }

  Result<PlanVm> MakeVm(const ClusterSpec& spec, const std::string& name, const std::string& role,
                        const std::string& os, const std::string& image, const std::string& size_name,
                        const std::string& size_from, const std::string& firmware_name,
                        const std::string& firmware_from, IpAllocator* ips) {
    const VmSize* size = in_.sizes->Find(size_name);
    if (!size) return Error::Input("unknown VM size '" + size_name + "' (" + size_from + ")");
    const firmware::VmFirmware* fw = in_.firmware->Find(firmware_name);
    if (!fw) return Error::Input("unknown firmware '" + firmware_name + "' (" + firmware_from + ")");
    if (os == "windows" && name.size() > 15) {
      return Error::Input("Windows VM name '" + name + "' is " + std::to_string(name.size()) +
                          " characters; Windows computer names allow 15. Shorten cluster '" + spec.cluster.name +
                          "' or its pool name");
    }
    PlanVm vm;
    vm.name = name;
    vm.cluster = spec.cluster.name;
    vm.id = "vm/" + vm.cluster + "/" + name;
    vm.uuid = NameUuid(vm.id);
    vm.role = role;
    vm.os = os;
    vm.image = image;
    vm.size = size_name;
    vm.vcpus = size->vcpus;
    vm.memory_mib = size->memory_mib;
    vm.firmware = ResolveFirmware(*fw);
    if (std::string why = firmware::SecureBootMismatch(*fw, os); !why.empty() && warned_.insert(firmware_from).second) {
      plan_.warnings.push_back(vm.cluster + " (" + firmware_from + "): " + why);
    }
    auto ip = ips->Next();
    if (!ip) return std::move(ip).error();
    std::string mac = VmMac(vm.cluster, name);
    for (int salt = 1; macs_.count(mac); ++salt) mac = VmMac(vm.cluster, name, salt);
    macs_.insert(mac);
    vm.nics.push_back({spec.network.id, mac, *ip, spec.prefix, spec.gateway, spec.dns});
    vm.disks.push_back({"disk/" + vm.cluster + "/" + name + "/os", name + "-os.qcow2", "os",
                        static_cast<uint64_t>(size->os_disk_gib) * kGiB, "", "", ""});
    vm.explain.push_back("size " + size_name + " (" + std::to_string(size->vcpus) + " vCPU, " +
                         (size->memory_mib % 1024 ? std::to_string(size->memory_mib) + " MiB"
                                                  : std::to_string(size->memory_mib / 1024) + " GiB") +
                         ", OS disk " + std::to_string(size->os_disk_gib) + " GiB) from " + size_from);
    vm.explain.push_back("firmware " + firmware_name + " (" + vm.firmware.mode +
                         (fw->secure_boot ? ", Secure Boot" : "") + (fw->tpm_version.empty() ? "" : ", vTPM") +
                         ") from " + firmware_from);
    vm.explain.push_back("IP " + *ip + " and MAC " + mac + " (hash of '" + vm.cluster + "/" + name + "')");
    return vm;
  }

  Status Management(const HardwareProfile& p) {
    const ManagementNetwork& m = in_.management;
    ClusterSpec spec;
    spec.cluster = {"cluster/mgmt", "mgmt", "management", "", m.vip, "", "", false, true, {}, p.file};
    spec.gateway = m.gateway;
    spec.dns = m.dns;
    spec.pod_cidr = "10.200.0.0/16";
    spec.service_cidr = "10.201.0.0/16";
    if (auto st = AddNetwork(&spec, m.cidr); !st) return st;
    if (m.mode == NetworkMode::kBridge) {
      plan_.networks.back().mode = NetworkMode::kBridge;
      plan_.networks.back().bridge = m.bridge;
      spec.network = plan_.networks.back();
    }
    std::string why;
    auto pool = ParseIpRange(m.node_ip_pool, &why);
    if (!pool) return Error::Input("management node IP pool: " + why);
    spec.cluster.vip_pool = m.vip;
    IpAllocator ips(*pool, "management node IP pool");
    auto api = MakeVm(spec, "mgmt-apiserver", "apiserver", "linux", "linux-node", p.apiserver_size,
                      At(p.positions, "management.apiserver_size", p.file), p.management_firmware,
                      At(p.positions, "management.firmware", p.file), &ips);
    if (!api) return std::move(api).error();
    auto lb = MakeVm(spec, "mgmt-lb", "loadbalancer", "linux", "loadbalancer", p.loadbalancer_size,
                     At(p.positions, "management.loadbalancer_size", p.file), p.management_firmware,
                     At(p.positions, "management.firmware", p.file), &ips);
    if (!lb) return std::move(lb).error();
    spec.cluster.kubernetes_version = in_.kubernetes_bundle_version;
    for (PlanVm* vm : {&*api, &*lb}) {
      spec.cluster.vms.push_back(vm->id);
      plan_.vms.push_back(std::move(*vm));
    }
    specs_.push_back(std::move(spec));
    return Ok();
  }

  // The cluster's Kubernetes version: the profile's, which must be the
  // bundle's when there is one, else the bundle's.
  Result<std::string> KubernetesVersion(const ClusterProfile& c) const {
    const std::string& bundle = in_.kubernetes_bundle_version;
    if (c.kubernetes_version.empty() || bundle.empty()) {
      return c.kubernetes_version.empty() ? bundle : c.kubernetes_version;
    }
    if (c.kubernetes_version == bundle) return bundle;
    auto at = c.positions.find("kubernetes_version");
    SourcePos pos = at != c.positions.end() ? at->second : SourcePos{c.file, 0, 0};
    return Error::Input(FormatDiagnostic({pos, Severity::kError,
                                          "cluster '" + c.name + "' asks for Kubernetes " + c.kubernetes_version +
                                              ", but the bundle in the node images is " + bundle +
                                              "; set kubernetes_version = \"" + bundle +
                                              "\" (or remove it to take the bundle's), or build the images "
                                              "with a " +
                                              c.kubernetes_version + " bundle"}));
  }

  Status Workload(const ClusterProfile& c) {
    auto version = KubernetesVersion(c);
    if (!version) return std::move(version).error();
    ClusterSpec spec;
    spec.profile = &c;
    spec.cluster = {
        "cluster/" + c.name, c.name, "workload", *version, "", "", c.vip_pool.ToString(), c.load_balancer_ha,
        c.encrypt_secrets,   {},     c.file};
    spec.cluster.api_vip = c.vip_pool.first.ToString();
    spec.gateway = c.network.gateway.ToString();
    for (const Ipv4& d : c.network.dns) spec.dns.push_back(d.ToString());
    spec.pod_cidr = c.network.pod_cidr.ToString();
    spec.service_cidr = c.network.service_cidr.ToString();
    if (auto st = AddNetwork(&spec, c.network.node_cidr.ToString()); !st) return st;
    if (c.network.mode == NetworkMode::kBridge) {
      // The VMs share the host's bridge on its uplink: the gateway and DNS
      // are the datacenter's, not libvirt's.
      plan_.networks.back().mode = NetworkMode::kBridge;
      plan_.networks.back().bridge = c.network.bridge;
      plan_.networks.back().vlan = c.network.vlan;
      spec.network = plan_.networks.back();
    }
    IpAllocator ips(c.network.node_ip_pool, "cluster '" + c.name + "' node_ip_pool");
    std::vector<PlanVm> vms;
    for (int64_t i = 1; i <= c.control_plane_count; ++i) {
      auto vm = MakeVm(spec, c.name + "-cp-" + std::to_string(i), "control-plane", "linux", "linux-node",
                       c.control_plane_size, At(c.positions, "control_plane.size", c.file), c.control_plane_firmware,
                       At(c.positions, "control_plane.firmware", c.file), &ips);
      if (!vm) return std::move(vm).error();
      vms.push_back(std::move(*vm));
    }
    for (int64_t i = 1; i <= c.load_balancer_count; ++i) {
      auto vm = MakeVm(spec, c.name + "-lb-" + std::to_string(i), "loadbalancer", "linux", "loadbalancer",
                       c.load_balancer_size, At(c.positions, "load_balancer.size", c.file), c.load_balancer_firmware,
                       At(c.positions, "load_balancer.firmware", c.file), &ips);
      if (!vm) return std::move(vm).error();
      vms.push_back(std::move(*vm));
    }
    for (const NodePool& pool : c.node_pools) {
      for (int64_t i = 1; i <= pool.count; ++i) {
        bool win = pool.os == "windows";
        auto vm = MakeVm(spec, c.name + "-" + pool.name + "-" + std::to_string(i), "worker", pool.os,
                         win ? "windows-node" : "linux-node", pool.size, PosText(pool.size_pos, c.file), pool.firmware,
                         PosText(pool.firmware_pos, c.file), &ips);
        if (!vm) return std::move(vm).error();
        vm->pool = pool.name;
        vm->labels = pool.labels;
        vm->taints = pool.taints;
        if (win) {
          // Windows pools: workloads must opt in (AKS hybrid's mixed-OS rule).
          vm->labels["kubernetes.io/os"] = "windows";
          vm->taints.push_back("os=windows:NoSchedule");
          vm->explain.push_back("label kubernetes.io/os=windows and taint os=windows:NoSchedule: Windows pool");
        }
        if (pool.data_disk_gib > 0) {
          vm->disks.push_back({"disk/" + c.name + "/" + vm->name + "/data", vm->name + "-data.qcow2", "data",
                               static_cast<uint64_t>(pool.data_disk_gib) * kGiB, "", "", ""});
        }
        vms.push_back(std::move(*vm));
      }
    }
    for (PlanVm& vm : vms) {
      spec.cluster.vms.push_back(vm.id);
      plan_.vms.push_back(std::move(vm));
    }
    specs_.push_back(std::move(spec));
    return Ok();
  }

  // Anti-affinity groups: the control planes of a cluster, its LBs, and the
  // management cluster's two VMs.
  std::map<std::string, std::string> VmGroups() const {
    std::map<std::string, std::string> g;
    for (const PlanVm& vm : plan_.vms) {
      if (vm.cluster == "mgmt") {
        g[vm.id] = "mgmt";
      } else if (vm.role == "control-plane" || vm.role == "loadbalancer") {
        g[vm.id] = vm.cluster + "/" + vm.role;
      }
    }
    return g;
  }

  Status Configs() {
    std::map<std::string, PlanVm*> by_id;
    for (PlanVm& vm : plan_.vms) by_id[vm.id] = &vm;
    for (ClusterSpec& spec : specs_) {
      std::vector<PlanVm*> cps, lbs, workers, apis;
      for (const std::string& id : spec.cluster.vms) {
        PlanVm* vm = by_id[id];
        if (vm->role == "control-plane") cps.push_back(vm);
        if (vm->role == "apiserver") apis.push_back(vm);
        if (vm->role == "loadbalancer") lbs.push_back(vm);
        if (vm->role == "worker") workers.push_back(vm);
      }
      std::vector<const PlanVm*> masters(cps.begin(), cps.end());
      if (masters.empty()) masters.assign(apis.begin(), apis.end());
      std::vector<Backend> backends;
      for (const PlanVm* m : masters) backends.push_back({m->name, m->nics[0].ip, 6443});
      std::vector<VrrpPeer> peers;
      for (const PlanVm* lb : lbs) peers.push_back({lb->name, lb->nics[0].ip});
      for (size_t i = 0; i < lbs.size(); ++i) {
        PlanVm* lb = lbs[i];
        auto haproxy = HaproxyApiConfig("kube-apiserver", backends);
        if (!haproxy) return std::move(haproxy).error();
        lb->files.push_back({"/etc/haproxy/haproxy.cfg", std::move(*haproxy), "0644", {}});
        if (spec.cluster.lb_ha) {
          auto keepalived = KeepalivedConfig(spec.cluster.name, i, peers, spec.cluster.api_vip, spec.prefix);
          if (!keepalived) return std::move(keepalived).error();
          lb->files.push_back({"/etc/keepalived/keepalived.conf", std::move(*keepalived), "0644", {}});
        } else {
          // A single LB carries the VIP as a second address.
          lb->files.push_back(
              {"/etc/slipway/vip", spec.cluster.api_vip + "/" + std::to_string(spec.prefix) + "\n", "0644", {}});
        }
        // `slipway lb sync` logs in with the cluster's own key, which can only
        // run lb-apply (install checked Service rules, reload): see
        // docs/load-balancer.md.
        lb->files.push_back({"/root/.ssh/authorized_keys",
                             std::string(kLbApplyKeyOptions) + " {{secret:lb-ssh-pub/" + spec.cluster.name + "}}\n",
                             "0600",
                             {}});
      }
      std::vector<PlanVm*> nodes = cps;  // a cluster has control planes or (management) an API server
      nodes.insert(nodes.end(), apis.begin(), apis.end());
      nodes.insert(nodes.end(), workers.begin(), workers.end());
      for (PlanVm* vm : nodes) {
        std::string path = vm->os == "windows" ? "C:/slipway/kubeadm.yaml" : "/etc/kubernetes/kubeadm.yaml";
        vm->files.push_back(
            {path, KubeadmConfig(spec.cluster, *vm, masters, spec.pod_cidr, spec.service_cidr), "0600", {}});
        if (!masters.empty() && masters[0]->id == vm->id) {
          // The cluster CA is made at apply time so that joiners can pin its hash.
          vm->files.push_back(
              {"/etc/kubernetes/pki/ca.crt", "{{secret:ca-cert/" + spec.cluster.name + "}}\n", "0644", {}});
          vm->files.push_back(
              {"/etc/kubernetes/pki/ca.key", "{{secret:ca-key/" + spec.cluster.name + "}}\n", "0600", {}});
        }
        // One etcd member on every control plane (kubeadm's external etcd).
        if (std::find(masters.begin(), masters.end(), vm) != masters.end()) {
          auto etcd = EtcdFiles(spec.cluster.name, *vm, masters);
          if (!etcd) return std::move(etcd).error();
          vm->files.insert(vm->files.end(), etcd->begin(), etcd->end());
        }
        if ((vm->role == "control-plane" || vm->role == "apiserver") && spec.cluster.encrypt_secrets) {
          vm->files.push_back(
              {"/etc/kubernetes/encryption/config.yaml", EncryptionConfig(spec.cluster.name), "0600", {}});
        }
      }
      for (const std::string& id : spec.cluster.vms) {
        PlanVm* vm = by_id[id];
        for (PlanFile& f : vm->files) f.secret_refs = SecretRefs(f.content);
        vm->seed = vm->os == "windows" ? WindowsSeed(*vm, spec.cluster.api_vip) : NoCloudSeed(*vm);
      }
      plan_.clusters.push_back(spec.cluster);
    }
    return Ok();
  }

  void Secrets() {
    std::map<std::string, std::string> kinds = {{"bootstrap-token", "kubeadm-token"},
                                                {"certificate-key", "certificate-key"},
                                                {"encryption-key", "aescbc-key"},
                                                {"ca-cert-hash", "ca-cert-hash"},
                                                {"ca-cert", "ca-certificate"},
                                                {"ca-key", "ca-private-key"},
                                                {"ssh-authorized-keys", "ssh-authorized-keys"},
                                                {"password", "password"},
                                                {"etcd-ca-cert", "etcd-ca-certificate"},
                                                {"etcd-cert", "etcd-member-certificate"},
                                                {"etcd-key", "etcd-member-private-key"},
                                                {"etcd-client-cert", "etcd-client-certificate"},
                                                {"etcd-client-key", "etcd-client-private-key"}};
    std::set<std::string> names;
    for (const PlanVm& vm : plan_.vms) {
      for (const auto* files : {&vm.files, &vm.seed}) {
        for (const PlanFile& f : *files) names.insert(f.secret_refs.begin(), f.secret_refs.end());
      }
    }
    for (const std::string& n : names) plan_.secrets.push_back({n, kinds[n.substr(0, n.find('/'))]});
  }

  const PlanInputs& in_;
  Plan plan_;
  std::vector<ClusterSpec> specs_;
  std::set<std::string> macs_;
  std::set<std::string> warned_;  // firmware sources already warned about
};

}  // namespace

std::string HostId(const HardwareReport& r, const std::string& fallback) {
  if (r.smbios.uuid.ok()) return *r.smbios.uuid;
  if (r.smbios.serial.ok()) return "serial-" + *r.smbios.serial;
  auto macs = r.Macs();
  if (!macs.empty()) return "mac-" + macs[0];
  return fallback;
}

std::string VmMac(std::string_view cluster, std::string_view vm, int salt) {
  std::string key = std::string(cluster) + "/" + std::string(vm);
  if (salt) key += "#" + std::to_string(salt);
  Sha256Digest d = Sha256(key);
  Mac mac = {0x02, 0x53, 0x57, d[0], d[1], d[2]};
  return FormatMac(mac);
}

Result<Plan> MakePlan(const PlanInputs& in) {
  if (!in.profile || !in.sizes || !in.firmware) return Error::Input("MakePlan needs a profile, sizes and firmware");
  return Planner(in).Run();
}

Result<const HardwareProfile*> ChooseProfile(const std::vector<PlanHostInput>& hosts,
                                             const std::vector<HardwareProfile>& profiles) {
  std::map<std::string, size_t> fits;
  std::string lacks;
  for (const PlanHostInput& h : hosts) {
    auto ms = MatchProfiles(h.report, profiles);
    for (const ProfileMatch& m : ms) {
      if (m.fits) fits[m.profile->name]++;
    }
    if (ms.empty() || !ms[0].fits) {
      lacks += "\n  host " + HostId(h.report, h.origin) + ": nearest '" + (ms.empty() ? "" : ms[0].profile->name) +
               "' lacks: " + (ms.empty() ? "" : Join(Lacks(ms[0]), "; "));
    }
  }
  // The most demanding profile that every host fits (MatchProfiles order).
  if (!hosts.empty()) {
    for (const ProfileMatch& m : MatchProfiles(hosts[0].report, profiles)) {
      if (fits[m.profile->name] == hosts.size()) return m.profile;
    }
  }
  return Error::HostUnsuitable("no hardware profile fits every host (--profile auto)" + lacks);
}

}  // namespace slipway::installer
