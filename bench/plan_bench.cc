// bench/plan: times MakePlan (and the JSON rendering of the plan) for fleets
// from 8 hosts x 200 VMs (AKS hybrid's limits) to 64 hosts x 2,000 VMs, and
// prints the time per VM so the growth rate can be read off.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "plan_fixtures.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

struct Case {
  int hosts;
  int vms;
};

double Millis(std::chrono::steady_clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

// --emit VMS FILE: writes a plan of about VMS lab-sized VMs (10 GiB disks)
// spread over enough CSVs that libvirt's test driver (100 GiB per pool)
// holds them; bench/apply.sh applies it.
int Emit(int vms, const char* file) {
  std::vector<testing::CsvSpec> csvs;
  for (int i = 0; i < vms / 6 + 1; ++i) csvs.push_back({"/ClusterStorage/Volume" + std::to_string(i + 1), 4000});
  PlanInputs in;
  in.hosts = {testing::MakeHost("bench-host", 4096, 65536, csvs)};
  in.profile = testing::BundledCatalog().FindHardware("lab");
  std::vector<ClusterProfile> clusters;
  int left = vms - 2;
  for (int i = 0; left > 0; ++i) {
    int n = std::min(left, 50);
    clusters.push_back(testing::MakeCluster("c" + std::to_string(i), i, 1, 1, std::max(n - 2, 1)));
    auto& c = clusters.back();
    c.control_plane_size = c.load_balancer_size = "Slipway_Lab_2";
    for (auto& p : c.node_pools) p.size = "Slipway_Lab_2";
    left -= n;
  }
  for (const auto& c : clusters) in.clusters.push_back(&c);
  in.sizes = &*testing::BundledCatalog().sizes;
  in.firmware = &*testing::BundledCatalog().firmware;
  auto plan = MakePlan(in);
  if (!plan) {
    std::fprintf(stderr, "%s\n", plan.error().ToString().c_str());
    return 1;
  }
  FILE* f = std::fopen(file, "w");
  std::string json = nlohmann::json(*plan).dump();
  std::fwrite(json.data(), 1, json.size(), f);
  std::fclose(f);
  std::printf("%zu\n", plan->vms.size());
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--emit") return Emit(std::atoi(argv[2]), argv[3]);
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const Case cases[] = {{8, 200}, {16, 500}, {32, 1000}, {64, 2000}};
  std::printf("%6s %6s %12s %12s %12s %14s\n", "hosts", "VMs", "plan ms", "json ms", "total ms", "us per VM");
  double first_per_vm = 0;
  for (const Case& c : cases) {
    std::vector<testing::CsvSpec> csvs = {
        {"/ClusterStorage/Volume1", 400000}, {"/ClusterStorage/Volume2", 300000}, {"/ClusterStorage/Volume3", 200000}};
    std::vector<PlanHostInput> hosts;
    for (int h = 0; h < c.hosts; ++h) hosts.push_back(testing::MakeHost("host-" + std::to_string(h), 256, 1024, csvs));
    // 50 VMs per cluster (3 control planes, 2 LBs, 45 workers) plus the management cluster.
    std::vector<ClusterProfile> clusters;
    for (int i = 0; i < c.vms / 50; ++i) clusters.push_back(testing::MakeCluster("c" + std::to_string(i), i, 3, 2, 45));
    PlanInputs in;
    in.hosts = hosts;
    in.profile = testing::BundledCatalog().FindHardware("standard");
    for (const auto& cl : clusters) in.clusters.push_back(&cl);
    in.sizes = &*testing::BundledCatalog().sizes;
    in.firmware = &*testing::BundledCatalog().firmware;
    std::vector<double> plan_ms, json_ms;
    size_t vms = 0, bytes = 0;
    for (int r = 0; r < runs; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      auto plan = MakePlan(in);
      auto t1 = std::chrono::steady_clock::now();
      if (!plan) {
        std::fprintf(stderr, "plan failed: %s\n", plan.error().ToString().c_str());
        return 1;
      }
      std::string json = nlohmann::json(*plan).dump(2);
      auto t2 = std::chrono::steady_clock::now();
      plan_ms.push_back(Millis(t1 - t0));
      json_ms.push_back(Millis(t2 - t1));
      vms = plan->vms.size();
      bytes = json.size();
    }
    std::sort(plan_ms.begin(), plan_ms.end());
    std::sort(json_ms.begin(), json_ms.end());
    double p = plan_ms[plan_ms.size() / 2], j = json_ms[json_ms.size() / 2];
    double per_vm = (p + j) * 1000 / static_cast<double>(vms);
    if (first_per_vm == 0) first_per_vm = per_vm;
    std::printf("%6d %6zu %12.2f %12.2f %12.2f %14.1f   (%.1f MB of JSON; per-VM cost x%.2f of the smallest)\n",
                c.hosts, vms, p, j, p + j, per_vm, static_cast<double>(bytes) / 1e6, per_vm / first_per_vm);
  }
  std::printf("medians of %d runs; target: 8 x 200 under 100 ms, near-linear growth (per-VM cost flat)\n", runs);
  return 0;
}
