// Plan validation: a planner-made plan passes; each class of tampering is
// refused as an input error naming the object, before anything is created.
#include "installer/apply/plan_check.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "installer/plan/planner.h"
#include "plan_fixtures.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;
using slipway::testing::BundledCatalog;
using slipway::testing::MakeCluster;
using slipway::testing::MakeHost;

namespace {

Plan GoodPlan() {
  static Plan plan = [] {
    PlanInputs in;
    std::vector<PlanHostInput> hosts = {
        MakeHost("4c4c4544-0000-0000-0000-000000000001", 32, 256, {{"/ClusterStorage/Volume1", 4000}})};
    static ClusterProfile prod = MakeCluster("prod", 1, 3, 2, 3, 1);
    in.hosts = hosts;
    in.profile = BundledCatalog().FindHardware("standard");
    in.clusters = {&prod};
    in.sizes = &*BundledCatalog().sizes;
    in.firmware = &*BundledCatalog().firmware;
    auto p = MakePlan(in);
    REQUIRE(p.ok());
    return *p;
  }();
  return plan;
}

// The message of CheckPlan on `p`, "" when it passes.
std::string Problems(const Plan& p, const std::string& root = "") {
  auto st = CheckPlan(p, "plan.json", root);
  if (st.ok()) return "";
  CHECK(st.error().code() == ExitCode::kInput);
  return st.error().message();
}

bool Has(const std::string& text, const std::string& part) {
  INFO(text);
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a plan made by the planner passes the check") { CHECK(Problems(GoodPlan()) == ""); }

TEST_CASE("a VM name with ../ is refused before anything is written") {
  Plan p = GoodPlan();
  p.vms[0].name = "../../etc/cron.d/x";
  std::string m = Problems(p);
  CHECK(Has(m, "plan.json: the plan is not safe to apply; nothing was created:"));
  CHECK(Has(m, "VM name '../../etc/cron.d/x' is not a DNS label"));
}

TEST_CASE("volume and pool names must be plain file names, pool paths must stay in their CSV") {
  Plan p = GoodPlan();
  p.vms[1].disks[0].name = "../escape.qcow2";
  p.base_volumes[0].name = "/abs.qcow2";
  p.pools[0].path = p.csvs[0].path + "/../../tmp";
  std::string m = Problems(p);
  CHECK(Has(m, "disk name '../escape.qcow2' is not a plain file name"));
  CHECK(Has(m, "base volume name '/abs.qcow2' is not a plain file name"));
  CHECK(Has(m, "must be an absolute path without '..'"));
  Plan q = GoodPlan();
  q.pools[0].path = "/etc/slipway";
  CHECK(Has(Problems(q), "is not inside its CSV '/ClusterStorage/Volume1'"));
}

TEST_CASE("a pool folder that is a symbolic link out of its CSV is refused") {
  slipway::testing::TempDir root;
  Plan p = GoodPlan();
  std::filesystem::create_directories(root.path() + p.csvs[0].path);
  std::filesystem::create_directories(root / "elsewhere");
  REQUIRE(::symlink((root / "elsewhere").c_str(), (root.path() + p.pools[0].path).c_str()) == 0);
  CHECK(Has(Problems(p, root.path()), "outside its CSV"));
  std::filesystem::remove(root.path() + p.pools[0].path);
  CHECK(Problems(p, root.path()) == "");
}

TEST_CASE("absurd vCPUs, memory and sizes, and VMs that do not fit their host are refused") {
  Plan p = GoodPlan();
  p.vms[0].vcpus = 100000;
  p.vms[1].memory_mib = 0;
  p.vms[2].disks[0].size_bytes = 0;
  std::string m = Problems(p);
  CHECK(Has(m, "has 100000 vCPUs; 1 to 256 are allowed"));
  CHECK(Has(m, "has 0 MiB of memory"));
  CHECK(Has(m, "has size 0; 1 byte to 64 TiB"));
  Plan q = GoodPlan();
  q.vms[0].vcpus = 200;  // allowed in general, but more than the host has
  CHECK(Has(Problems(q), "vCPUs; its host"));
  Plan r = GoodPlan();
  for (auto& vm : r.vms) vm.memory_mib = 64 * 1024;
  CHECK(Has(Problems(r), "need"));
}

TEST_CASE("duplicate ids, names and addresses, unknown references and schemas are refused") {
  Plan p = GoodPlan();
  p.vms.push_back(p.vms[0]);
  std::string m = Problems(p);
  CHECK(Has(m, "VM id '" + p.vms[0].id + "' appears twice"));
  CHECK(Has(m, "VM name '" + p.vms[0].name + "' appears twice"));
  CHECK(Has(m, "MAC " + p.vms[0].nics[0].mac + " is used twice"));
  CHECK(Has(m, "address " + p.vms[0].nics[0].ip + " is used twice"));
  Plan q = GoodPlan();
  q.schema = "slipway.plan/v9";
  q.vms[0].host_id = "nowhere";
  q.vms[0].disks[0].pool_id = "pool/none";
  std::string n = Problems(q);
  CHECK(Has(n, "schema is 'slipway.plan/v9'"));
  CHECK(Has(n, "is placed on host 'nowhere'"));
  CHECK(Has(n, "is in unknown pool 'pool/none'"));
}

TEST_CASE("a VM address that is the network, broadcast or gateway address, or outside its network, is refused") {
  Plan p = GoodPlan();
  const PlanNetwork* net = nullptr;
  for (const auto& n : p.networks) {
    if (n.cluster == "prod") net = &n;
  }
  REQUIRE(net);
  std::string why;
  Cidr cidr = *ParseCidr(net->cidr, &why);
  std::vector<PlanVm*> on_net;
  for (auto& vm : p.vms) {
    if (vm.nics[0].network_id == net->id) on_net.push_back(&vm);
  }
  REQUIRE(on_net.size() >= 4);
  on_net[0]->nics[0].ip = cidr.Range().first.ToString();
  on_net[1]->nics[0].ip = cidr.Range().last.ToString();
  on_net[2]->nics[0].ip = net->gateway;
  on_net[3]->nics[0].ip = "192.0.2.1";
  std::string m = Problems(p);
  CHECK(Has(m, "is the network or broadcast address of " + net->cidr));
  CHECK(Has(m, "address " + net->gateway + " is the network's gateway"));
  CHECK(Has(m, "address 192.0.2.1 is outside its network"));
}
