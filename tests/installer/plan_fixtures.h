// Synthetic hosts and profiles for planner tests and bench/plan.
#pragma once

#include <string>
#include <vector>

#include "installer/plan/catalog.h"
#include "installer/plan/planner.h"

namespace slipway::testing {

struct CsvSpec {
  std::string path;
  uint64_t free_gib;
  bool writable = true;
};

/// A host report with `cores` cores, `memory_gib` GiB and the given CSVs
/// (CSV ids derive from the path, so two hosts listing the same path share it).
inline installer::PlanHostInput MakeHost(const std::string& uuid, int64_t cores, uint64_t memory_gib,
                                         const std::vector<CsvSpec>& csvs) {
  installer::HardwareReport r;
  r.sysroot = "synthetic";
  r.cpu.cores = installer::Probed<int64_t>::Known(cores);
  r.cpu.threads = installer::Probed<int64_t>::Known(cores * 2);
  r.cpu.sockets = installer::Probed<int64_t>::Known(1);
  r.cpu.virtualization = installer::Probed<bool>::Known(true);
  r.cpu.virtualization_flag = "vmx";
  r.memory_bytes = installer::Probed<uint64_t>::Known(memory_gib << 30);
  r.smbios.uuid = installer::Probed<std::string>::Known(uuid);
  r.firmware.boot_mode = "uefi";
  for (const CsvSpec& c : csvs) {
    installer::Csv csv;
    csv.path = c.path;
    csv.fs_type = "ocfs2";
    csv.source = c.path;
    csv.id = "csv-" + std::to_string(std::hash<std::string>{}(c.path) % 1000000);
    csv.origin = "ClusterStorage";
    csv.size_bytes = installer::Probed<uint64_t>::Known(c.free_gib << 31);
    csv.free_bytes = installer::Probed<uint64_t>::Known(c.free_gib << 30);
    csv.writable = c.writable;
    r.csvs.push_back(csv);
  }
  return {r, "synthetic " + uuid, ""};
}

/// The bundled profiles (sizes, firmware, hardware, clusters).
inline const installer::Catalog& BundledCatalog() {
  static installer::Catalog c = [] {
    Diagnostics d;
    return installer::LoadProfileTree(std::string(SLIPWAY_SOURCE_DIR) + "/profiles",
                                      std::string(SLIPWAY_SOURCE_DIR) + "/firmware/firmware.toml", &d);
  }();
  return c;
}

/// A cluster profile with `workers` Linux workers (and `windows` Windows
/// workers) on its own /16, derived from the bundled 'prod'.
inline installer::ClusterProfile MakeCluster(const std::string& name, int index, int64_t cps, int64_t lbs,
                                             int64_t workers, int64_t windows = 0) {
  installer::ClusterProfile c = *BundledCatalog().FindCluster("prod");
  c.name = name;
  c.file = "synthetic/" + name + ".toml";
  c.control_plane_count = cps;
  c.load_balancer_count = lbs;
  c.load_balancer_ha = lbs >= 2;
  c.node_pools.resize(2);
  c.node_pools[0].name = "lin";
  c.node_pools[0].count = workers;
  c.node_pools[0].data_disk_gib = 0;
  c.node_pools[1].name = "win";
  c.node_pools[1].count = windows;
  std::string why;
  uint32_t base = (10u << 24) | (static_cast<uint32_t>(index % 250) << 16);
  c.network.node_cidr = Cidr{Ipv4{base}, 16};
  c.network.gateway = Ipv4{base + 1};
  c.network.node_ip_pool = IpRange{Ipv4{base + 10}, Ipv4{base + 60000}};
  c.vip_pool = IpRange{Ipv4{base + 60001}, Ipv4{base + 60100}};
  c.network.pod_cidr = Cidr{Ipv4{(172u << 24) | (16u << 16)}, 16};
  c.network.service_cidr = Cidr{Ipv4{(172u << 24) | (17u << 16)}, 16};
  return c;
}

}  // namespace slipway::testing
