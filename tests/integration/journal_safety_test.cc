// The journal never destroys what is in use: a journal cut back to a
// volume's "begin" record (lost records) must not make the rerun delete the
// OS disk of a defined domain or a base volume under overlays; that is
// drift, left alone. A corrupt record is reported with its line number.
// Runs on libvirt's in-process test driver.
#include <catch2/catch.hpp>
#include <fstream>

#include "common/strings.h"
#include "installer/apply/executor.h"
#include "installer/apply/hypervisor.h"
#include "plan_fixtures.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

Plan SmallPlan(const std::string& name) {
  PlanInputs in;
  in.hosts = {testing::MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})};
  in.profile = testing::BundledCatalog().FindHardware("lab");
  ClusterProfile c = testing::MakeCluster(name, 1, 1, 1, 1, 0);
  c.control_plane_size = c.load_balancer_size = "Slipway_Lab_2";
  for (auto& pool : c.node_pools) pool.size = "Slipway_Lab_2";
  in.clusters = {&c};
  in.sizes = &*testing::BundledCatalog().sizes;
  in.firmware = &*testing::BundledCatalog().firmware;
  auto p = MakePlan(in);
  REQUIRE(p.ok());
  return *p;
}

// Keeps the journal's lines up to and including the "begin" of `step`.
void CutJournalAt(const std::string& journal, const std::string& step) {
  std::string text = testing::ReadText(journal), kept;
  bool found = false;
  for (const std::string& line : Split(text, '\n')) {
    if (line.empty()) continue;
    kept += line + "\n";
    if (line.find("\"step\":\"" + step + "\"") != std::string::npos && line.find("\"begin\"") != std::string::npos) {
      found = true;
      break;
    }
  }
  REQUIRE(found);
  testing::WriteText(journal, kept);
}

struct Applied {
  testing::TempDir dir;
  std::unique_ptr<Hypervisor> hv;
  ApplyOptions o;
  Plan plan;

  explicit Applied(const std::string& name) : plan(SmallPlan(name)) {
    auto c = Hypervisor::Connect("test:///default");
    REQUIRE(c.ok());
    hv = std::move(*c);
    o.state_dir = dir / "state";
    o.storage_root = dir / "root";
    auto sum = Apply(plan, *hv, o, nullptr, nullptr);
    INFO((sum.ok() ? "" : sum.error().ToString()));
    REQUIRE(sum.ok());
  }
  ~Applied() { (void)Destroy(*hv, {o.state_dir, o.storage_root, ""}, nullptr); }
  std::string Journal() const { return o.state_dir + "/journal.jsonl"; }
};

}  // namespace

TEST_CASE("a journal cut back to an OS volume's begin does not delete the disk of a defined domain") {
  Applied a("cutos");
  const PlanVm& vm = a.plan.vms.back();
  const PlanDisk& os = vm.disks[0];
  CutJournalAt(a.Journal(), "volume:" + os.id);
  REQUIRE(a.hv->Domain(vm.name).exists);
  auto sum = Apply(a.plan, *a.hv, a.o, nullptr, nullptr);
  REQUIRE(!sum.ok());
  CHECK(sum.error().code() == ExitCode::kRuntime);
  CHECK(sum.error().message().find("volume " + std::string("slipway-") + os.csv_id + "/" + os.name +
                                   " is used by domain " + vm.name) != std::string::npos);
  for (const std::string& line : Split(testing::ReadText(a.Journal()), '\n')) {
    bool redone =
        line.find("\"volume:" + os.id + "\"") != std::string::npos && line.find("\"done\"") != std::string::npos;
    CHECK(!redone);  // nothing was redone
  }
  CHECK(a.hv->Volume("slipway-" + os.csv_id, os.name).exists);
  CHECK(a.hv->Domain(vm.name).exists);
}

TEST_CASE("a journal cut back to a base volume's begin does not delete the base under its overlays") {
  Applied a("cutbase");
  const PlanBaseVolume& base = a.plan.base_volumes[0];
  CutJournalAt(a.Journal(), "base:" + base.id);
  std::string before = a.hv->Volume("slipway-" + base.csv_id, base.name).xml;
  auto sum = Apply(a.plan, *a.hv, a.o, nullptr, nullptr);
  REQUIRE(!sum.ok());
  CHECK(sum.error().message().find("base volume slipway-" + base.csv_id + "/" + base.name + " is used by") !=
        std::string::npos);
  CHECK(a.hv->Volume("slipway-" + base.csv_id, base.name).xml == before);
}

TEST_CASE("a corrupt journal record is reported with its line number") {
  Applied a("corrupt");
  std::string text = testing::ReadText(a.Journal());
  size_t second = text.find('\n') + 1;
  size_t third = text.find('\n', second) + 1;
  text.replace(second, third - second, "{\"seq\": 2, \"step\": tru\n");
  testing::WriteText(a.Journal(), text);
  auto sum = Apply(a.plan, *a.hv, a.o, nullptr, nullptr);
  REQUIRE(!sum.ok());
  CHECK(sum.error().message().find(a.Journal() + ":2: corrupt journal record") != std::string::npos);
}

// A kind Slipway never writes (an edited owned.json) stops apply and
// destroy with the file's name, before anything is touched.
TEST_CASE("an owned.json entry of an unknown kind is refused, naming the file and the kind") {
  Applied a("unknownkind");
  std::string owned_file = a.o.state_dir + "/owned.json";
  std::string original = testing::ReadText(owned_file);
  auto owned = nlohmann::json::parse(original);
  REQUIRE(!owned.empty());
  owned[0]["kind"] = "snapshot";
  testing::WriteText(owned_file, owned.dump(1));
  auto sum = Destroy(*a.hv, {a.o.state_dir, a.o.storage_root, ""}, nullptr);
  REQUIRE(!sum.ok());
  CHECK(sum.error().message().find(owned_file + " is corrupt: unknown step kind 'snapshot'") != std::string::npos);
  auto again = Apply(a.plan, *a.hv, a.o, nullptr, nullptr);
  REQUIRE(!again.ok());
  CHECK(again.error().message().find("unknown step kind 'snapshot'") != std::string::npos);
  CHECK(!a.hv->List().domains.empty());      // nothing was destroyed
  testing::WriteText(owned_file, original);  // for the destroy at the end
}

// owned.json is Slipway's own record; libvirt must agree before anything
// goes. An entry pointing at a volume in a pool Slipway did not make (an
// edited or stale record) leaves that volume alone, and says so.
TEST_CASE("destroy leaves alone a volume that owned.json claims in a pool Slipway did not make") {
  Applied a("foreign");
  testing::TempDir other;
  REQUIRE(a.hv->DefinePool("<pool type='dir'><name>precious</name><target><path>" + other.path() +
                           "</path></target></pool>")
              .ok());
  REQUIRE(a.hv->StartPool("precious", false).ok());
  REQUIRE(a.hv->CreateVolume("precious",
                             "<volume><name>data.qcow2</name><capacity unit='bytes'>1048576</capacity>"
                             "<target><format type='qcow2'/></target></volume>")
              .ok());
  // A pool with Slipway's name pattern but not Slipway's UUID is foreign too.
  testing::TempDir lookalike;
  REQUIRE(a.hv->DefinePool("<pool type='dir'><name>slipway-lookalike</name><target><path>" + lookalike.path() +
                           "</path></target></pool>")
              .ok());
  REQUIRE(a.hv->StartPool("slipway-lookalike", false).ok());
  REQUIRE(a.hv->CreateVolume("slipway-lookalike",
                             "<volume><name>disk.qcow2</name><capacity unit='bytes'>1048576</capacity>"
                             "<target><format type='qcow2'/></target></volume>")
              .ok());
  std::string owned_file = a.o.state_dir + "/owned.json";
  auto owned = nlohmann::json::parse(testing::ReadText(owned_file));
  owned.push_back({{"id", "volume:forged1"},
                   {"kind", "volume"},
                   {"name", "data.qcow2"},
                   {"pool", "precious"},
                   {"cluster", "foreign"},
                   {"plan_id", "forged1"}});
  owned.push_back({{"id", "volume:forged2"},
                   {"kind", "volume"},
                   {"name", "disk.qcow2"},
                   {"pool", "slipway-lookalike"},
                   {"cluster", "foreign"},
                   {"plan_id", "forged2"}});
  testing::WriteText(owned_file, owned.dump(1));

  auto sum = Destroy(*a.hv, {a.o.state_dir, a.o.storage_root, ""}, nullptr);
  INFO((sum.ok() ? "" : sum.error().ToString()));
  REQUIRE(sum.ok());
  CHECK(a.hv->Volume("precious", "data.qcow2").exists);
  CHECK(a.hv->Volume("slipway-lookalike", "disk.qcow2").exists);
  REQUIRE(sum->notes.size() == 2);
  CHECK(sum->notes[0].find("storage pool slipway-lookalike is not one Slipway made") != std::string::npos);
  CHECK(sum->notes[1].find("storage pool precious is not one Slipway made") != std::string::npos);
  // Everything Slipway did make is gone.
  Inventory inv = a.hv->List();
  for (const std::string& d : inv.domains) CHECK(d.find("foreign") == std::string::npos);
  (void)a.hv->DeleteVolume("precious", "data.qcow2");
  (void)a.hv->DeletePool("precious");
  (void)a.hv->DeleteVolume("slipway-lookalike", "disk.qcow2");
  (void)a.hv->DeletePool("slipway-lookalike");
}
