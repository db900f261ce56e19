// Planner: sizing, placement on hosts and CSVs, determinism, refusals.
#include "installer/plan/planner.h"

#include <catch2/catch.hpp>
#include <set>

#include "installer/plan/config_gen.h"
#include "installer/plan/plan_ops.h"
#include "plan_fixtures.h"

using namespace slipway;
using namespace slipway::installer;
using slipway::testing::BundledCatalog;
using slipway::testing::CsvSpec;
using slipway::testing::MakeCluster;
using slipway::testing::MakeHost;

namespace {

constexpr uint64_t kGiB = 1ull << 30;

struct Inputs {
  std::vector<PlanHostInput> hosts;
  std::vector<ClusterProfile> clusters;
  std::string profile = "standard";
  std::string bundle = "1.28.5";  ///< the Kubernetes bundle's version ("" for none)

  Result<Plan> Make() const {
    PlanInputs in;
    in.kubernetes_bundle_version = bundle;
    in.hosts = hosts;
    in.profile = BundledCatalog().FindHardware(profile);
    for (const auto& c : clusters) in.clusters.push_back(&c);
    in.sizes = &*BundledCatalog().sizes;
    in.firmware = &*BundledCatalog().firmware;
    return MakePlan(in);
  }
};

const PlanCsv& CsvAt(const Plan& p, const std::string& path) {
  for (const auto& c : p.csvs) {
    if (c.path == path) return c;
  }
  FAIL("no CSV " << path);
  throw;
}

std::map<std::string, int> DisksPerCsv(const Plan& p) {
  std::map<std::string, std::string> path;
  for (const auto& c : p.csvs) path[c.id] = c.path;
  std::map<std::string, int> out;
  for (const auto& vm : p.vms) {
    for (const auto& d : vm.disks) out[path[d.csv_id]]++;
  }
  return out;
}

}  // namespace

TEST_CASE("the management cluster has one API-server VM and one dedicated LB VM sized by the hardware profile") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {}};
  auto p = in.Make();
  REQUIRE(p.ok());
  REQUIRE(p->vms.size() == 2);
  CHECK(p->vms[0].name == "mgmt-apiserver");
  CHECK(p->vms[0].size == "Standard_A4_v2");
  CHECK(p->vms[1].name == "mgmt-lb");
  CHECK(p->vms[1].role == "loadbalancer");
  CHECK(p->vms[1].files[0].path == "/etc/haproxy/haproxy.cfg");
  CHECK(p->vms[1].files[0].content.find("server mgmt-apiserver 172.31.0.10:6443") != std::string::npos);
  CHECK(p->clusters[0].api_vip == "172.31.0.2");
}

TEST_CASE("a prod cluster has 3 control planes, 2 LBs with keepalived, Linux and tainted Windows workers") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {*BundledCatalog().FindCluster("prod")}};
  auto p = in.Make();
  REQUIRE(p.ok());
  const PlanCluster* prod = p->FindCluster("prod");
  REQUIRE(prod);
  CHECK(prod->vms.size() == 11);
  CHECK(prod->lb_ha);
  const PlanVm* lb2 = p->FindVm("vm/prod/prod-lb-2");
  REQUIRE(lb2);
  REQUIRE(lb2->files.size() == 3);
  CHECK(lb2->files[1].content.find("state BACKUP") != std::string::npos);
  CHECK(lb2->files[1].content.find("10.30.0.200/24 dev eth0") != std::string::npos);
  // lb sync's key: root may run lb-apply with it, and nothing else.
  CHECK(lb2->files[2].path == "/root/.ssh/authorized_keys");
  CHECK(lb2->files[2].mode == "0600");
  CHECK(lb2->files[2].content == "restrict,command=\"/usr/lib/slipway/lb-apply\" {{secret:lb-ssh-pub/prod}}\n");
  const PlanVm* win = p->FindVm("vm/prod/prod-windows-1");
  REQUIRE(win);
  CHECK(win->os == "windows");
  CHECK(win->image == "windows-node");
  CHECK(win->labels.at("kubernetes.io/os") == "windows");
  CHECK(win->taints == std::vector<std::string>{"os=windows:NoSchedule"});
  CHECK(win->files[0].content.find("key: \"os\"") != std::string::npos);
  CHECK(win->seed[0].path == "openstack/latest/user_data");
  const PlanVm* lin = p->FindVm("vm/prod/prod-linux-1");
  CHECK(lin->taints.empty());
  CHECK(lin->disks.size() == 2);  // OS + 64 GiB data disk
  CHECK(lin->disks[1].size_bytes == 64 * kGiB);
  CHECK(lin->nics[0].mac.rfind("02:53:57:", 0) == 0);
}

TEST_CASE("MACs and UUIDs are stable hashes and never collide within a plan") {
  CHECK(VmMac("prod", "prod-cp-1") == VmMac("prod", "prod-cp-1"));
  CHECK(VmMac("prod", "prod-cp-1") != VmMac("dev", "prod-cp-1"));
  Inputs in{{MakeHost("h1", 1024, 16384, {{"/ClusterStorage/Volume1", 100000}})},
            {MakeCluster("a", 1, 3, 2, 300), MakeCluster("b", 2, 3, 2, 300)}};
  auto p = in.Make();
  REQUIRE(p.ok());
  std::set<std::string> macs, uuids;
  for (const auto& vm : p->vms) {
    CHECK(macs.insert(vm.nics[0].mac).second);
    CHECK(uuids.insert(vm.uuid).second);
  }
}

TEST_CASE("with one CSV every disk and base image goes on it") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {*BundledCatalog().FindCluster("dev")}};
  auto p = in.Make();
  REQUIRE(p.ok());
  CHECK(DisksPerCsv(*p) == std::map<std::string, int>{{"/ClusterStorage/Volume1", 6}});
  REQUIRE(p->base_volumes.size() == 2);  // linux-node and loadbalancer
  CHECK(CsvAt(*p, "/ClusterStorage/Volume1").allocated_bytes == (600 + 4 + 2) * kGiB);
}

TEST_CASE("three CSVs with very different free space all get data, weighted by free space") {
  Inputs in{
      {MakeHost(
          "h1", 128, 2048,
          {{"/ClusterStorage/Volume1", 8000}, {"/ClusterStorage/Volume2", 2000}, {"/ClusterStorage/Volume3", 500}})},
      {MakeCluster("big", 1, 3, 2, 40)}};
  auto p = in.Make();
  REQUIRE(p.ok());
  auto per = DisksPerCsv(*p);
  REQUIRE(per.size() == 3);
  double f1 = double(CsvAt(*p, "/ClusterStorage/Volume1").allocated_bytes) / (8000 * kGiB);
  double f2 = double(CsvAt(*p, "/ClusterStorage/Volume2").allocated_bytes) / (2000 * kGiB);
  double f3 = double(CsvAt(*p, "/ClusterStorage/Volume3").allocated_bytes) / (500 * kGiB);
  // Balanced: every CSV is filled to about the same fraction of its free space.
  CHECK(std::abs(f1 - f2) < 0.06);
  CHECK(std::abs(f1 - f3) < 0.25);
  CHECK(per["/ClusterStorage/Volume1"] > per["/ClusterStorage/Volume2"]);
  CHECK(per["/ClusterStorage/Volume2"] > per["/ClusterStorage/Volume3"]);
  // The three control planes sit on three different CSVs.
  std::set<std::string> cp_csvs;
  for (int i = 1; i <= 3; ++i) cp_csvs.insert(p->FindVm("vm/big/big-cp-" + std::to_string(i))->disks[0].csv_id);
  CHECK(cp_csvs.size() == 3);
}

TEST_CASE("when the disks do not fit, the error says how much is missing on which CSV") {
  Inputs in{{MakeHost("h1", 128, 2048, {{"/ClusterStorage/Volume1", 1000}, {"/ClusterStorage/Volume2", 500}})},
            {MakeCluster("big", 1, 3, 2, 20)}};
  auto p = in.Make();
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code() == ExitCode::kHostUnsuitable);
  CHECK(p.error().ToString() ==
        "the VM disks need 2.6 TiB (plus base images) but the CSVs have 1.5 TiB free: /ClusterStorage/Volume1 needs "
        "800 GiB more (has 1000 GiB free), /ClusterStorage/Volume2 needs 400 GiB more (has 500 GiB free); remove "
        "workers, use smaller sizes or add CSV space");
}

TEST_CASE("memory is never overcommitted and the refusal says what to remove") {
  Inputs in{{MakeHost("h1", 64, 112, {{"/ClusterStorage/Volume1", 8000}})}, {*BundledCatalog().FindCluster("prod")}};
  in.profile = "edge-small";
  auto p = in.Make();
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code() == ExitCode::kHostUnsuitable);
  // mgmt 4+2 GiB, prod 3x8 + 2x6 + 6x16 = 132 GiB; the host offers 112 - 4 reserved.
  CHECK(p.error().ToString() ==
        "the plan needs 138 GiB memory for 2 clusters (management included), the host has 108 GiB for VMs (memory "
        "minus the profile's reserved_memory_gib; memory is never overcommitted); remove 2 workers from "
        "'prod/linux', or add a host");
}

TEST_CASE("CPU is overcommitted only up to the profile's ratio") {
  // 8 cores x 4.0 = 32 vCPUs; mgmt 2 + 2, one CP 4, one LB 4, 7 workers x 4 = 40.
  Inputs in{{MakeHost("h1", 8, 512, {{"/ClusterStorage/Volume1", 8000}})}, {MakeCluster("c", 1, 1, 1, 7)}};
  in.profile = "edge-small";
  auto p = in.Make();
  REQUIRE_FALSE(p.ok());
  INFO(p.error().ToString());
  CHECK(p.error().ToString() ==
        "the plan needs 40 vCPUs for 2 clusters (management included), the host has 32 (cores x the profile's "
        "cpu_overcommit_ratio); remove 2 workers from 'c/lin', or add a host");
}

TEST_CASE("several hosts: control planes go to different hosts and capacity is respected") {
  std::vector<CsvSpec> shared = {{"/ClusterStorage/Volume1", 8000}};
  Inputs in{{MakeHost("h3", 32, 256, shared), MakeHost("h1", 32, 256, shared), MakeHost("h2", 32, 256, shared)},
            {*BundledCatalog().FindCluster("prod")}};
  auto p = in.Make();
  REQUIRE(p.ok());
  CHECK(p->hosts[0].id == "h1");  // sorted by id
  std::set<std::string> cp_hosts;
  for (int i = 1; i <= 3; ++i) cp_hosts.insert(p->FindVm("vm/prod/prod-cp-" + std::to_string(i))->host_id);
  CHECK(cp_hosts.size() == 3);
  CHECK(p->FindVm("vm/prod/prod-lb-1")->host_id != p->FindVm("vm/prod/prod-lb-2")->host_id);
  CHECK(p->FindVm("vm/mgmt/mgmt-apiserver")->host_id != p->FindVm("vm/mgmt/mgmt-lb")->host_id);
  for (const auto& h : p->hosts) {
    CHECK(h.memory_used <= h.memory_capacity);
    CHECK(h.vcpus_used <= h.vcpu_capacity);
  }
  CHECK(p->csvs.size() == 1);  // the shared CSV is counted once
  CHECK(p->warnings.empty());
}

TEST_CASE("anti-affinity that cannot be met is allowed, with a warning") {
  std::vector<CsvSpec> shared = {{"/ClusterStorage/Volume1", 8000}};
  Inputs in{{MakeHost("h1", 64, 512, shared), MakeHost("h2", 64, 512, shared)},
            {*BundledCatalog().FindCluster("prod")}};
  auto p = in.Make();
  REQUIRE(p.ok());
  REQUIRE(p->warnings.size() == 1);
  CHECK(p->warnings[0].find("prod-cp-3 shares host") != std::string::npos);
  CHECK(p->warnings[0].find("'prod/control-plane'") != std::string::npos);
}

TEST_CASE("the same inputs give byte-identical JSON, whatever the order of hosts, CSVs and clusters") {
  std::vector<CsvSpec> csvs = {{"/ClusterStorage/Volume1", 3000}, {"/ClusterStorage/Volume2", 2000}};
  std::vector<CsvSpec> reversed(csvs.rbegin(), csvs.rend());
  Inputs a{{MakeHost("h1", 32, 256, csvs), MakeHost("h2", 32, 256, csvs)},
           {*BundledCatalog().FindCluster("dev"), *BundledCatalog().FindCluster("prod")}};
  Inputs b{{MakeHost("h2", 32, 256, reversed), MakeHost("h1", 32, 256, reversed)},
           {*BundledCatalog().FindCluster("prod"), *BundledCatalog().FindCluster("dev")}};
  auto pa = a.Make();
  auto pb = b.Make();
  REQUIRE((pa.ok() && pb.ok()));
  std::string ja = nlohmann::json(*pa).dump(2), jb = nlohmann::json(*pb).dump(2);
  CHECK(ja == jb);
  CHECK(ja == nlohmann::json(*a.Make()).dump(2));
}

TEST_CASE("plans hold secret references, never secret values") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {*BundledCatalog().FindCluster("prod")}};
  auto p = in.Make();
  REQUIRE(p.ok());
  std::set<std::string> names;
  for (const auto& s : p->secrets) names.insert(s.name);
  // The management cluster has no joining node, so no CA hash reference.
  CHECK(names == std::set<std::string>{
                     "bootstrap-token/mgmt", "bootstrap-token/prod", "ca-cert-hash/prod", "ca-cert/mgmt",
                     "ca-cert/prod", "ca-key/mgmt", "ca-key/prod", "certificate-key/mgmt", "certificate-key/prod",
                     "encryption-key/mgmt", "encryption-key/prod", "password/windows-admin", "ssh-authorized-keys",
                     // lb sync's key, authorized in each cluster's load balancers.
                     "lb-ssh-pub/mgmt", "lb-ssh-pub/prod",
                     // One etcd member per control plane (the management API server too).
                     "etcd-ca-cert/mgmt", "etcd-ca-cert/prod", "etcd-cert/mgmt.mgmt-apiserver",
                     "etcd-cert/prod.prod-cp-1", "etcd-cert/prod.prod-cp-2", "etcd-cert/prod.prod-cp-3",
                     "etcd-client-cert/mgmt", "etcd-client-cert/prod", "etcd-client-key/mgmt", "etcd-client-key/prod",
                     "etcd-key/mgmt.mgmt-apiserver", "etcd-key/prod.prod-cp-1", "etcd-key/prod.prod-cp-2",
                     "etcd-key/prod.prod-cp-3"});
  const PlanVm* cp = p->FindVm("vm/prod/prod-cp-1");
  CHECK(cp->seed[0].path == "user-data");
  CHECK(cp->seed[0].mode == "0600");
  CHECK(cp->seed[0].content.find("{{secret:bootstrap-token/prod}}") != std::string::npos);
}

TEST_CASE("plan diff lists exactly the VMs a scaled pool adds or removes") {
  ClusterProfile prod = *BundledCatalog().FindCluster("prod");
  Inputs before{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 8000}})}, {prod}};
  prod.node_pools[0].count = 6;
  Inputs after = before;
  after.clusters = {prod};
  auto a = before.Make();
  auto b = after.Make();
  REQUIRE((a.ok() && b.ok()));
  PlanDiff d = DiffPlans(*a, *b);
  CHECK(d.add == std::vector<std::string>{"vm/prod/prod-linux-5", "vm/prod/prod-linux-6"});
  CHECK(d.remove.empty());
  // Windows workers get the next IPs in the pool: their addresses shift.
  REQUIRE(d.change.size() == 2);
  CHECK(d.change[0].id == "vm/prod/prod-windows-1");
  PlanDiff back = DiffPlans(*b, *a);
  CHECK(back.remove == std::vector<std::string>{"vm/prod/prod-linux-5", "vm/prod/prod-linux-6"});
  CHECK(DiffPlans(*a, *a).Empty());
}

TEST_CASE("a Windows VM name longer than 15 characters is refused with the fix") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {MakeCluster("production", 1, 1, 1, 1, 1)}};
  auto p = in.Make();
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().ToString() ==
        "Windows VM name 'production-win-1' is 16 characters; Windows computer names allow "
        "15. Shorten cluster 'production' or its pool name");
}

TEST_CASE("profile auto picks the most demanding profile every host fits") {
  auto small = MakeHost("h1", 16, 64, {{"/ClusterStorage/Volume1", 400}});
  auto big = MakeHost("h2", 64, 512, {{"/ClusterStorage/Volume1", 4000}, {"/ClusterStorage/Volume2", 4000}});
  big.report.disks.resize(2);
  for (auto& d : big.report.disks) {
    d.size_bytes = Probed<uint64_t>::Known(1000 * kGiB);
    d.removable = Probed<bool>::Known(false);
    d.transport = "nvme";
  }
  big.report.nics.push_back(
      {"eth0", true, Probed<std::string>::Known("aa:bb:cc:dd:ee:ff"), {}, {}, Probed<bool>::Known(true), "up"});
  small.report.nics = big.report.nics;
  auto one = ChooseProfile({big}, BundledCatalog().hardware);
  INFO((one.ok() ? std::string() : one.error().ToString()));
  REQUIRE(one.ok());
  CHECK((*one)->name == "standard");
  auto both = ChooseProfile({big, small}, BundledCatalog().hardware);
  REQUIRE(both.ok());
  CHECK((*both)->name == "edge-small");
}

TEST_CASE("Linux and Windows VMs on Secure-Boot firmware plan without a warning, with Secure Boot and a vTPM") {
  // The Linux images boot through shim and Debian's signed GRUB (docs/
  // iso.md), Windows from signed media: no firmware choice is a mismatch.
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {MakeCluster("sb", 1, 3, 2, 1, 1)}};
  in.clusters[0].control_plane_firmware = "uefi-secure";
  in.clusters[0].positions["control_plane.firmware"] = {"synthetic/sb.toml", 9, 12};
  in.clusters[0].node_pools[1].firmware = "uefi-secure";
  auto p = in.Make();
  REQUIRE(p.ok());
  CHECK(p->warnings.empty());
  for (const auto& vm : p->vms) {
    if (vm.role == "control-plane") {
      CHECK(vm.firmware.secure_boot);
      CHECK(vm.firmware.tpm == "2.0");
    }
  }
}

TEST_CASE("a bridge-mode cluster's network is the host bridge, and the management network stays NAT") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {MakeCluster("br", 1, 1, 1, 1)}};
  in.clusters[0].network.mode = NetworkMode::kBridge;
  in.clusters[0].network.bridge = "br-dc";
  auto p = in.Make();
  REQUIRE(p.ok());
  REQUIRE(p->networks.size() == 2);
  CHECK(p->networks[0].mode == NetworkMode::kNat);
  CHECK(p->networks[1].mode == NetworkMode::kBridge);
  CHECK(p->networks[1].bridge == "br-dc");
  nlohmann::json j = *p;
  CHECK(j["networks"][1]["mode"] == "bridge");
  // A plan written before bridge mode (no mode, no bridge) reads as NAT.
  j["networks"][1].erase("mode");
  j["networks"][1].erase("bridge");
  CHECK(j.get<Plan>().networks[1].mode == NetworkMode::kNat);
}

TEST_CASE("a cluster without kubernetes_version runs the bundle's version") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {MakeCluster("k", 1, 1, 1, 0, 0)}};
  in.clusters[0].kubernetes_version = "";
  in.bundle = "1.29.3";
  auto p = in.Make();
  REQUIRE(p.ok());
  for (const auto& c : p->clusters) CHECK(c.kubernetes_version == "1.29.3");  // the management cluster's too
  CHECK(p->warnings.empty());
}

TEST_CASE("a cluster whose kubernetes_version is not the bundle's is refused at its line") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {MakeCluster("k", 1, 1, 1, 0, 0)}};
  in.clusters[0].kubernetes_version = "1.28.5";
  in.clusters[0].positions["kubernetes_version"] = {"synthetic/k.toml", 3, 22};
  in.bundle = "1.29.3";
  auto p = in.Make();
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().code() == ExitCode::kInput);
  CHECK(p.error().message() ==
        "synthetic/k.toml:3:22: error: cluster 'k' asks for Kubernetes 1.28.5, but the bundle in the node images is "
        "1.29.3; set kubernetes_version = \"1.29.3\" (or remove it to take the bundle's), or build the images with a "
        "1.28.5 bundle");
}

TEST_CASE("without a bundle the plan says so in one line, first, and keeps the profile's version") {
  Inputs in{{MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})}, {MakeCluster("k", 1, 1, 1, 0, 0)}};
  in.bundle = "";
  auto p = in.Make();
  REQUIRE(p.ok());
  REQUIRE_FALSE(p->warnings.empty());
  CHECK(p->warnings[0] == "no Kubernetes bundle: nodes run etcd and containerd only");
  CHECK(p->FindCluster("k")->kubernetes_version == in.clusters[0].kubernetes_version);
  CHECK(p->FindCluster("mgmt")->kubernetes_version.empty());
}
