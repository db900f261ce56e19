// Host and CSV placement.
#include "installer/plan/placement.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/strings.h"

namespace slipway::installer {

namespace {

constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kMiB = 1ull << 20;

std::string Gib(uint64_t b) { return FormatBytes(b); }

// "remove 2 workers from 'prod/linux'" for a memory or vCPU excess.
std::string WhatToRemove(const std::vector<PlanVm>& vms, double excess, bool memory) {
  std::map<std::string, std::pair<int64_t, double>> pools;  // "cluster/pool" -> count, per-VM need
  for (const PlanVm& vm : vms) {
    if (vm.role != "worker") continue;
    auto& p = pools[vm.cluster + "/" + vm.pool];
    p.first++;
    p.second = memory ? static_cast<double>(vm.memory_mib) * kMiB : static_cast<double>(vm.vcpus);
  }
  std::string best;
  int64_t best_n = 0;
  for (const auto& [name, p] : pools) {
    int64_t n = static_cast<int64_t>(std::ceil(excess / p.second));
    if (n <= p.first && (best.empty() || n < best_n)) {
      best = name;
      best_n = n;
    }
  }
  if (best.empty()) return "remove a workload cluster, or add a host";
  return "remove " + std::to_string(best_n) + " worker" + (best_n == 1 ? "" : "s") + " from '" + best +
         "', or add a host";
}

}  // namespace

Status PlaceOnHosts(std::vector<PlanHost>& hosts, std::vector<PlanVm>* vms,
                    const std::map<std::string, std::string>& groups, std::vector<std::string>* warnings) {
  uint64_t mem_need = 0, mem_have = 0;
  int64_t cpu_need = 0, cpu_have = 0;
  std::set<std::string> clusters;
  for (const PlanVm& vm : *vms) {
    mem_need += static_cast<uint64_t>(vm.memory_mib) * kMiB;
    cpu_need += vm.vcpus;
    clusters.insert(vm.cluster);
  }
  for (const PlanHost& h : hosts) {
    mem_have += h.memory_capacity;
    cpu_have += h.vcpu_capacity;
  }
  std::string scope =
      std::to_string(clusters.size()) + " cluster" + (clusters.size() == 1 ? "" : "s") + " (management included)";
  std::string where = hosts.size() == 1 ? "the host has" : "the " + std::to_string(hosts.size()) + " hosts have";
  if (mem_need > mem_have) {
    return Error::HostUnsuitable("the plan needs " + Gib(mem_need) + " memory for " + scope + ", " + where + " " +
                                 Gib(mem_have) +
                                 " for VMs (memory minus the profile's reserved_memory_gib; memory is never "
                                 "overcommitted); " +
                                 WhatToRemove(*vms, static_cast<double>(mem_need - mem_have), true));
  }
  if (cpu_need > cpu_have) {
    return Error::HostUnsuitable("the plan needs " + std::to_string(cpu_need) + " vCPUs for " + scope + ", " + where +
                                 " " + std::to_string(cpu_have) + " (cores x the profile's cpu_overcommit_ratio); " +
                                 WhatToRemove(*vms, static_cast<double>(cpu_need - cpu_have), false));
  }
  std::map<std::pair<std::string, std::string>, int> group_count;  // (host, group) -> VMs
  for (PlanVm& vm : *vms) {
    uint64_t mem = static_cast<uint64_t>(vm.memory_mib) * kMiB;
    auto g = groups.find(vm.id);
    PlanHost* best = nullptr;
    int best_group = 0;
    double best_free = -1;
    for (PlanHost& h : hosts) {
      if (h.memory_used + mem > h.memory_capacity || h.vcpus_used + vm.vcpus > h.vcpu_capacity) continue;
      int same = g == groups.end() ? 0 : group_count[{h.id, g->second}];
      double free = static_cast<double>(h.memory_capacity - h.memory_used - mem) /
                    static_cast<double>(std::max<uint64_t>(h.memory_capacity, 1));
      if (!best || same < best_group || (same == best_group && free > best_free + 1e-12)) {
        best = &h;
        best_group = same;
        best_free = free;
      }
    }
    if (!best) {
      uint64_t largest = 0;
      for (const PlanHost& h : hosts) largest = std::max(largest, h.memory_capacity - h.memory_used);
      return Error::HostUnsuitable("VM " + vm.name + " (" + std::to_string(vm.vcpus) + " vCPU, " + Gib(mem) +
                                   ") fits on no host: the most memory left on one host is " + Gib(largest) +
                                   "; use a smaller size or add a host");
    }
    if (g != groups.end() && best_group > 0 && hosts.size() > 1) {
      warnings->push_back("anti-affinity: " + vm.name + " shares host " + best->id + " with another member of '" +
                          g->second + "' (no host with room is free of it)");
    }
    if (g != groups.end()) group_count[{best->id, g->second}]++;
    best->memory_used += mem;
    best->vcpus_used += vm.vcpus;
    vm.host_id = best->id;
    std::string why = hosts.size() == 1 ? "the only host" : "most memory left after placing it";
    if (g != groups.end() && hosts.size() > 1) {
      why += best_group == 0 ? ", and no other member of '" + g->second + "' there (anti-affinity)"
                             : ", shared with another member of '" + g->second + "' (no free host had room)";
    }
    vm.explain.push_back("host " + best->id + ": " + why);
  }
  return Ok();
}

Status PlaceOnCsvs(std::vector<PlanCsv>& csvs, const std::vector<PlanPool>& pools,
                   const std::map<std::string, int64_t>& image_gib, std::vector<PlanVm>* vms,
                   std::vector<PlanBaseVolume>* bases) {
  struct Item {
    PlanVm* vm;
    size_t disk;
  };
  std::vector<Item> items;
  uint64_t total_need = 0;
  for (PlanVm& vm : *vms) {
    for (size_t i = 0; i < vm.disks.size(); ++i) {
      items.push_back({&vm, i});
      total_need += vm.disks[i].size_bytes;
    }
  }
  // Largest first packs best; ids break ties so the order never depends on input order.
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    const PlanDisk &x = a.vm->disks[a.disk], &y = b.vm->disks[b.disk];
    if (x.size_bytes != y.size_bytes) return x.size_bytes > y.size_bytes;
    return x.id < y.id;
  });
  std::set<std::pair<std::string, std::string>> has_base;          // (image, csv)
  std::map<std::pair<std::string, std::string>, int> group_count;  // (csv, group)
  std::map<std::string, const PlanPool*> pool_of;
  for (const PlanPool& p : pools) pool_of[p.csv_id] = &p;
  uint64_t total_free = 0;
  for (const PlanCsv& c : csvs) total_free += c.free_bytes;

  for (const Item& it : items) {
    PlanDisk& d = it.vm->disks[it.disk];
    const PlanVm& vm = *it.vm;
    bool spread = vm.role == "control-plane" || vm.role == "loadbalancer" || vm.role == "apiserver";
    std::string group = vm.cluster + "/" + vm.role;
    PlanCsv* best = nullptr;
    int best_group = 0;
    double best_fill = 0;
    uint64_t best_cost = 0;
    for (PlanCsv& c : csvs) {
      uint64_t cost = d.size_bytes;
      if (d.kind == "os" && !has_base.count({vm.image, c.id}))
        cost += static_cast<uint64_t>(image_gib.at(vm.image)) * kGiB;
      if (c.allocated_bytes + cost > c.free_bytes) continue;
      int same = spread ? group_count[{c.id, group}] : 0;
      double fill = static_cast<double>(c.allocated_bytes + cost) / static_cast<double>(c.free_bytes);
      if (!best || same < best_group || (same == best_group && fill < best_fill - 1e-12)) {
        best = &c;
        best_group = same;
        best_fill = fill;
        best_cost = cost;
      }
    }
    if (!best) {
      // Report the shortfall per CSV, as if the need were spread by free space.
      uint64_t need = total_need;
      std::vector<std::string> parts;
      for (const PlanCsv& c : csvs) {
        double share = static_cast<double>(need) * static_cast<double>(c.free_bytes) /
                       static_cast<double>(std::max<uint64_t>(total_free, 1));
        if (share > static_cast<double>(c.free_bytes)) {
          parts.push_back(c.path + " needs " + Gib(static_cast<uint64_t>(share) - c.free_bytes) + " more (has " +
                          Gib(c.free_bytes) + " free)");
        }
      }
      std::string detail =
          parts.empty() ? "no single CSV has " + Gib(d.size_bytes) + " free for disk " + d.name : Join(parts, ", ");
      return Error::HostUnsuitable("the VM disks need " + Gib(need) + " (plus base images) but the CSVs have " +
                                   Gib(total_free) + " free: " + detail +
                                   "; remove workers, use smaller sizes or add CSV space");
    }
    if (d.kind == "os" && has_base.insert({vm.image, best->id}).second) {
      bases->push_back({"base/" + vm.image + "/" + best->id, vm.image + ".qcow2", vm.image, pool_of[best->id]->id,
                        best->id, static_cast<uint64_t>(image_gib.at(vm.image)) * kGiB});
    }
    best->allocated_bytes += best_cost;
    if (spread) group_count[{best->id, group}]++;
    d.csv_id = best->id;
    d.pool_id = pool_of[best->id]->id;
    if (d.kind == "os") d.base_id = "base/" + vm.image + "/" + best->id;
    it.vm->explain.push_back(
        d.kind + " disk (" + Gib(d.size_bytes) + ") on " + best->path + ": " +
        (spread && csvs.size() > 1 && best_group == 0 ? "no other '" + group + "' disk there, then " : std::string()) +
        "lowest fill after placing it (" + std::to_string(static_cast<int>(std::lround(best_fill * 100))) +
        "% of its free space)");
  }
  std::sort(bases->begin(), bases->end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return Ok();
}

}  // namespace slipway::installer
