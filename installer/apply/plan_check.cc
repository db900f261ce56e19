// Plan validation: every rule a plan must meet before apply touches libvirt.
#include "installer/apply/plan_check.h"

#include <filesystem>
#include <map>
#include <set>

#include "common/net.h"
#include "common/strings.h"

namespace slipway::installer {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kMaxDiskBytes = 64ull << 40;  // 64 TiB, qcow2's practical limit is far above any CSV we plan for
constexpr int64_t kMaxVcpus = 256;               // as vm-sizes.toml allows
constexpr int64_t kMinMemoryMib = 128;
constexpr int64_t kMaxMemoryMib = 4096ll * 1024;

class Checker {
 public:
  Checker(const Plan& plan, std::string source, std::string root)
      : plan_(plan), source_(std::move(source)), root_(std::move(root)) {
    if (root_ == "/") root_.clear();
  }

  Status Run() {
    if (plan_.schema != kPlanSchema) {
      Fail("schema is '" + plan_.schema + "'; this Slipway applies '" + kPlanSchema +
           "' (make the plan again with this version's 'slipway plan')");
    }
    Hosts();
    Csvs();
    Pools();
    Networks();
    Bases();
    Clusters();
    Vms();
    if (problems_.empty()) return Ok();
    std::string msg = source_ + ": the plan is not safe to apply; nothing was created:";
    for (size_t i = 0; i < problems_.size() && i < 20; ++i) msg += "\n  - " + problems_[i];
    if (problems_.size() > 20) msg += "\n  - ... and " + std::to_string(problems_.size() - 20) + " more";
    return Error::Input(msg);
  }

 private:
  void Fail(std::string problem) { problems_.push_back(SanitizeForDisplay(problem)); }

  void Unique(std::set<std::string>* seen, const std::string& id, const std::string& what) {
    if (id.empty()) {
      Fail(what + " is empty");
    } else if (!seen->insert(id).second) {
      Fail(what + " '" + id + "' appears twice");
    }
  }

  void DnsLabel(const std::string& name, const std::string& what) {
    std::string problem = Dns1123Problem(name);
    if (!problem.empty()) Fail(what + " '" + name + "' is not a DNS label: it " + problem);
  }

  // A libvirt object or file name: letters, digits, '.', '_' and '-', not
  // starting with '.', so it can never name a parent or another folder.
  void FileName(const std::string& name, const std::string& what) {
    bool ok = !name.empty() && name.size() <= 200 && name.front() != '.';
    for (char c : name) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-');
    }
    if (!ok) Fail(what + " '" + name + "' is not a plain file name ([A-Za-z0-9._-], not starting with '.')");
  }

  // An absolute, normalised path: no '..', '.', empty parts or NUL.
  bool CleanAbsolute(const std::string& path, const std::string& what) {
    bool ok = !path.empty() && path[0] == '/' && path.find('\0') == std::string::npos;
    if (ok) {
      for (const std::string& part : Split(path.substr(1), '/')) {
        if (part.empty() || part == "." || part == "..") ok = false;
      }
    }
    if (!ok && path != "/") {
      Fail(what + " '" + path + "' must be an absolute path without '..', '.' or empty parts");
      return false;
    }
    return true;
  }

  void Hosts() {
    std::set<std::string> ids;
    for (const PlanHost& h : plan_.hosts) {
      Unique(&ids, h.id, "host id");
      hosts_[h.id] = &h;
    }
  }

  void Csvs() {
    std::set<std::string> ids;
    for (const PlanCsv& c : plan_.csvs) {
      Unique(&ids, c.id, "CSV id");
      if (CleanAbsolute(c.path, "CSV '" + c.id + "' path")) csvs_[c.id] = &c;
    }
  }

  void Pools() {
    std::set<std::string> ids, names;
    for (const PlanPool& p : plan_.pools) {
      Unique(&ids, p.id, "pool id");
      Unique(&names, p.name, "pool name");
      FileName(p.name, "pool name");
      auto csv = csvs_.find(p.csv_id);
      if (csv == csvs_.end()) {
        Fail("pool '" + p.id + "' is on CSV '" + p.csv_id + "', which the plan does not have");
        continue;
      }
      if (!CleanAbsolute(p.path, "pool '" + p.id + "' path")) continue;
      const std::string& csv_path = csv->second->path;
      if (p.path.compare(0, csv_path.size(), csv_path) != 0 || p.path.size() <= csv_path.size() ||
          p.path[csv_path.size()] != '/') {
        Fail("pool '" + p.id + "' path '" + p.path + "' is not inside its CSV '" + csv_path + "'");
        continue;
      }
      // Symlinks: what the folder resolves to must still be inside the CSV.
      std::error_code ec;
      fs::path real_pool = fs::weakly_canonical(root_ + p.path, ec);
      fs::path real_csv = fs::weakly_canonical(root_ + csv_path, ec);
      std::string rp = real_pool.string(), rc = real_csv.string();
      if (!ec && (rp.compare(0, rc.size(), rc) != 0 || (rp.size() > rc.size() && rp[rc.size()] != '/'))) {
        Fail("pool '" + p.id + "' path '" + p.path + "' resolves to '" + rp + "', outside its CSV '" + rc +
             "' (a symbolic link?)");
        continue;
      }
      pools_[p.id] = &p;
    }
  }

  void Networks() {
    std::set<std::string> ids, names;
    for (const PlanNetwork& n : plan_.networks) {
      Unique(&ids, n.id, "network id");
      Unique(&names, n.name, "network name");
      FileName(n.name, "network name");
      std::string why;
      auto cidr = ParseCidr(n.cidr, &why);
      if (!cidr) {
        Fail("network '" + n.id + "' cidr: " + why);
        continue;
      }
      networks_[n.id] = {&n, *cidr};
      auto gw = ParseIpv4(n.gateway, &why);
      if (!gw) {
        Fail("network '" + n.id + "' gateway: " + why);
      } else if (!cidr->Range().Contains(*gw)) {
        Fail("network '" + n.id + "' gateway " + n.gateway + " is outside " + n.cidr);
      }
    }
  }

  void Bases() {
    std::set<std::string> ids;
    for (const PlanBaseVolume& b : plan_.base_volumes) {
      Unique(&ids, b.id, "base volume id");
      FileName(b.name, "base volume name");
      if (!pools_.count(b.pool_id)) Fail("base volume '" + b.id + "' is in pool '" + b.pool_id + "', which is unknown");
      if (b.size_bytes > kMaxDiskBytes) Fail("base volume '" + b.id + "' is larger than 64 TiB");
      bases_.insert(b.id);
    }
  }

  void Clusters() {
    std::set<std::string> ids, names;
    for (const PlanCluster& c : plan_.clusters) {
      Unique(&ids, c.id, "cluster id");
      Unique(&names, c.name, "cluster name");
      DnsLabel(c.name, "cluster name");
      if (!c.network_id.empty() && !networks_.count(c.network_id)) {
        Fail("cluster '" + c.name + "' uses network '" + c.network_id + "', which the plan does not have");
      }
      clusters_.insert(c.name);
    }
  }

  void Vms() {
    std::set<std::string> ids, names, uuids, disk_ids, volumes, macs, ips;
    std::map<std::string, int64_t> vcpus_on;
    std::map<std::string, uint64_t> memory_on;
    for (const PlanVm& vm : plan_.vms) {
      const std::string what = "VM '" + vm.name + "'";
      Unique(&ids, vm.id, "VM id");
      Unique(&names, vm.name, "VM name");
      DnsLabel(vm.name, "VM name");
      if (!vm.uuid.empty() && !uuids.insert(vm.uuid).second) Fail(what + " uuid " + vm.uuid + " appears twice");
      if (!clusters_.count(vm.cluster))
        Fail(what + " is in cluster '" + vm.cluster + "', which the plan does not have");
      if (vm.vcpus < 1 || vm.vcpus > kMaxVcpus) {
        Fail(what + " has " + std::to_string(vm.vcpus) + " vCPUs; 1 to " + std::to_string(kMaxVcpus) + " are allowed");
      }
      if (vm.memory_mib < kMinMemoryMib || vm.memory_mib > kMaxMemoryMib) {
        Fail(what + " has " + std::to_string(vm.memory_mib) + " MiB of memory; " + std::to_string(kMinMemoryMib) +
             " MiB to 4 TiB are allowed");
      }
      auto host = hosts_.find(vm.host_id);
      if (host == hosts_.end()) {
        Fail(what + " is placed on host '" + vm.host_id + "', which the plan does not have");
      } else if (vm.vcpus > 0 && vm.memory_mib > 0) {
        const PlanHost& h = *host->second;
        vcpus_on[h.id] += vm.vcpus;
        memory_on[h.id] += static_cast<uint64_t>(vm.memory_mib) * kMiB;
        if (h.cores > 0 && vm.vcpus > std::max<int64_t>(h.vcpu_capacity, h.cores)) {
          Fail(what + " has " + std::to_string(vm.vcpus) + " vCPUs; its host '" + h.id + "' has capacity for " +
               std::to_string(std::max<int64_t>(h.vcpu_capacity, h.cores)));
        }
      }
      if (vm.disks.empty()) Fail(what + " has no disks");
      for (const PlanDisk& d : vm.disks) {
        Unique(&disk_ids, d.id, "disk id");
        FileName(d.name, what + " disk name");
        if (!pools_.count(d.pool_id)) Fail(what + " disk '" + d.name + "' is in unknown pool '" + d.pool_id + "'");
        if (!volumes.insert(d.pool_id + "/" + d.name).second) {
          Fail(what + " disk '" + d.name + "' has the same name as another volume in its pool");
        }
        if (d.size_bytes == 0 || d.size_bytes > kMaxDiskBytes) {
          Fail(what + " disk '" + d.name + "' has size " + std::to_string(d.size_bytes) + "; 1 byte to 64 TiB");
        }
        if (d.kind != "os" && d.kind != "data") Fail(what + " disk '" + d.name + "' has unknown kind '" + d.kind + "'");
        if (d.kind == "os" && !d.base_id.empty() && !bases_.count(d.base_id)) {
          Fail(what + " disk '" + d.name + "' is based on unknown base volume '" + d.base_id + "'");
        }
      }
      Nics(vm, &macs, &ips);
    }
    for (const auto& [id, used] : memory_on) {
      const PlanHost& h = *hosts_.at(id);
      if (h.memory_bytes > 0 && used > h.memory_bytes) {
        Fail("the VMs placed on host '" + id + "' need " + FormatBytes(used) + " of memory; it has " +
             FormatBytes(h.memory_bytes));
      }
    }
  }

  void Nics(const PlanVm& vm, std::set<std::string>* macs, std::set<std::string>* ips) {
    const std::string what = "VM '" + vm.name + "'";
    for (const PlanNic& n : vm.nics) {
      std::string why;
      if (!ParseMac(n.mac, &why)) Fail(what + " MAC: " + why);
      if (!macs->insert(n.mac).second) Fail(what + " MAC " + n.mac + " is used twice");
      auto net = networks_.find(n.network_id);
      if (net == networks_.end()) {
        Fail(what + " is on network '" + n.network_id + "', which the plan does not have");
        continue;
      }
      auto ip = ParseIpv4(n.ip, &why);
      if (!ip) {
        Fail(what + " address: " + why);
        continue;
      }
      if (!ips->insert(n.ip).second) Fail(what + " address " + n.ip + " is used twice");
      const Cidr& cidr = net->second.cidr;
      IpRange r = cidr.Range();
      if (!r.Contains(*ip)) {
        Fail(what + " address " + n.ip + " is outside its network " + cidr.ToString());
      } else if (cidr.prefix <= 30 && (*ip == r.first || *ip == r.last)) {
        Fail(what + " address " + n.ip + " is the network or broadcast address of " + cidr.ToString());
      } else if (n.ip == net->second.network->gateway) {
        Fail(what + " address " + n.ip + " is the network's gateway");
      }
    }
  }

  struct Net {
    const PlanNetwork* network;
    Cidr cidr;
  };

  const Plan& plan_;
  std::string source_;
  std::string root_;
  std::vector<std::string> problems_;
  std::map<std::string, const PlanHost*> hosts_;
  std::map<std::string, const PlanCsv*> csvs_;
  std::map<std::string, const PlanPool*> pools_;
  std::map<std::string, Net> networks_;
  std::set<std::string> bases_;
  std::set<std::string> clusters_;
};

}  // namespace

Status CheckPlan(const Plan& plan, const std::string& source, const std::string& storage_root) {
  return Checker(plan, source, storage_root).Run();
}

}  // namespace slipway::installer
