// The executor against a real libvirtd (test driver inside the daemon):
// apply, no-op reapply, drift, scaling, destroy, and a SIGKILL at every
// journal record followed by a rerun.
#include "installer/apply/executor.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <set>

#include "libvirt_daemon.h"
#include "plan_fixtures.h"
#include "plan_inventory.h"

using namespace slipway;
using namespace slipway::installer;
using slipway::testing::LibvirtDaemon;

namespace {

// Lab-sized VMs (10 GiB disks) on three CSVs: the test driver gives every
// pool a fixed 100 GiB.
Plan MakeTestPlan(int workers, int windows = 0, int control_planes = 3, int lbs = 2, const std::string& name = "tort") {
  PlanInputs in;
  in.hosts = {testing::MakeHost(
      "h1", 64, 512,
      {{"/ClusterStorage/Volume1", 4000}, {"/ClusterStorage/Volume2", 4000}, {"/ClusterStorage/Volume3", 4000}})};
  in.profile = testing::BundledCatalog().FindHardware("lab");
  ClusterProfile c = testing::MakeCluster(name, 1, control_planes, lbs, workers, windows);
  c.control_plane_size = c.load_balancer_size = "Slipway_Lab_2";
  for (auto& pool : c.node_pools) pool.size = "Slipway_Lab_2";
  in.clusters = {&c};
  in.sizes = &*testing::BundledCatalog().sizes;
  in.firmware = &*testing::BundledCatalog().firmware;
  auto p = MakePlan(in);
  REQUIRE(p.ok());
  return *p;
}

std::string WritePlan(const testing::TempDir& dir, const Plan& p, const std::string& name = "plan.json") {
  std::string path = dir / name;
  testing::WriteText(path, nlohmann::json(p).dump());
  return path;
}

using testing::CheckSame;
using testing::Expected;

struct Env {
  LibvirtDaemon daemon;
  testing::TempDir dir;
  std::string Cmd(const std::string& verb, const std::string& args = "") {
    return testing::Slipway() + " " + verb + " --connect '" + daemon.uri() + "' --state " + dir / "state" +
           " --storage-root " + dir / "root" + " " + args;
  }
};

}  // namespace

TEST_CASE("apply creates exactly the plan, a second apply is a no-op, destroy leaves nothing") {
  Env env;
  INFO(env.daemon.log());
  REQUIRE(env.daemon.ok());
  Inventory baseline = env.daemon.hv().List();
  Plan plan = MakeTestPlan(4);
  std::string file = WritePlan(env.dir, plan);
  auto r = testing::Run(env.Cmd("apply", file));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("[12/") != std::string::npos);
  CheckSame(env.daemon.hv().List(), Expected(plan, baseline));
  CHECK(env.daemon.hv().Domain("tort-cp-1").active);
  CHECK(env.daemon.hv().Domain("tort-cp-1").autostart);

  r = testing::Run(env.Cmd("apply", file));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("0 to create, 0 to change, 0 to destroy") != std::string::npos);
  CHECK(r.out.find("applied: 0 created") != std::string::npos);

  // The seed ISO reads back with libarchive: label cidata, secrets filled, mode 0600.
  const PlanVm* cp1 = plan.FindVm("vm/tort/tort-cp-1");
  std::string seed = env.daemon.hv().VolumePath("slipway-" + cp1->disks[0].csv_id, "tort-cp-1-seed.iso");
  struct stat st {};
  REQUIRE(::stat(seed.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto files = testing::ReadIsoFiles(seed);
  REQUIRE(files.count("user-data"));
  CHECK(files.count("meta-data"));
  CHECK(files.count("network-config"));
  CHECK(files["user-data"].find("{{secret:") == std::string::npos);
  // The VM's files as plain files for the first-boot agent, secrets filled.
  CHECK(files.count("slipway/files/etc/kubernetes/kubeadm.yaml"));
  CHECK(files["slipway/files/etc/kubernetes/kubeadm.yaml"].find("{{secret:") == std::string::npos);
  CHECK(files["slipway/modes"].find("0600 /etc/kubernetes/kubeadm.yaml") != std::string::npos);
  CHECK(files["user-data"].find("BEGIN CERTIFICATE") != std::string::npos);  // the cluster CA, made at apply time
  auto token = testing::ReadText(env.dir / "state/secrets/bootstrap-token_tort");
  CHECK(token.size() == 23);
  CHECK(files["user-data"].find(token) != std::string::npos);
  CHECK(r.out.find(token) == std::string::npos);  // never in the output

  r = testing::Run(env.Cmd("destroy", "--all"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CheckSame(env.daemon.hv().List(), baseline);
}

TEST_CASE("an object that differs from the plan is reported as drift and never replaced") {
  Env env;
  INFO(env.daemon.log());
  REQUIRE(env.daemon.ok());
  Plan plan = MakeTestPlan(1);
  REQUIRE(env.daemon.hv()
              .DefineDomain(
                  "<domain type='test'><name>tort-cp-2</name><memory>1024</memory><os><type>hvm</type></os></domain>")
              .ok());
  auto r = testing::Run(env.Cmd("apply", WritePlan(env.dir, plan)));
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("drift") != std::string::npos);
  CHECK(r.err.find("domain tort-cp-2 exists with UUID") != std::string::npos);
  CHECK_FALSE(env.daemon.hv().Domain("tort-cp-1").exists);  // nothing was changed
}

TEST_CASE("scaling a pool adds or removes exactly those VMs, removals need --yes") {
  Env env;
  INFO(env.daemon.log());
  REQUIRE(env.daemon.ok());
  Inventory baseline = env.daemon.hv().List();
  Plan two = MakeTestPlan(2), four = MakeTestPlan(4);
  REQUIRE(testing::Run(env.Cmd("apply", WritePlan(env.dir, two, "two.json"))).exit_code == 0);
  auto r = testing::Run(env.Cmd("apply", WritePlan(env.dir, four, "four.json")));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("apply to ") != std::string::npos);
  CHECK(r.out.find("6 to create, 0 to change, 0 to destroy") != std::string::npos);  // 2 VMs x (volume, seed, domain)
  CheckSame(env.daemon.hv().List(), Expected(four, baseline));
  r = testing::Run(env.Cmd("apply", env.dir / "two.json") + " < /dev/null");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("pass --yes to confirm") != std::string::npos);
  CheckSame(env.daemon.hv().List(), Expected(four, baseline));
  r = testing::Run(env.Cmd("apply", env.dir / "two.json --yes"));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("0 to create, 0 to change, 6 to destroy") != std::string::npos);
  CheckSame(env.daemon.hv().List(), Expected(two, baseline));
  r = testing::Run(env.Cmd("destroy", "--cluster tort"));
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(env.daemon.hv().Domain("tort-cp-1").exists);
  CHECK(env.daemon.hv().Domain("mgmt-apiserver").exists);  // another cluster is left alone
}

TEST_CASE("a SIGKILL after any journal record, then a rerun, converges on the plan") {
  Env env;
  INFO(env.daemon.log());
  REQUIRE(env.daemon.ok());
  Inventory baseline = env.daemon.hv().List();
  Plan plan = MakeTestPlan(4);  // management + 3 control planes, 2 LBs, 4 workers
  std::string file = WritePlan(env.dir, plan);
  Inventory want = Expected(plan, baseline);
  // Count the records of a full run.
  REQUIRE(testing::Run(env.Cmd("apply", file)).exit_code == 0);
  size_t records = 0;
  for (char c : testing::ReadText(env.dir / "state/journal.jsonl")) records += c == '\n';
  REQUIRE(testing::Run(env.Cmd("destroy", "--all")).exit_code == 0);
  REQUIRE(records > 80);
  size_t survived = 0;
  for (size_t k = 1; k <= records; ++k) {
    std::filesystem::remove_all(env.dir / "state");
    auto killed = testing::Run("SLIPWAY_TEST_KILL_AFTER_RECORD=" + std::to_string(k) + " " + env.Cmd("apply", file));
    INFO("crash point " << k << " of " << records);
    REQUIRE(killed.exit_code == 128 + SIGKILL);
    auto rerun = testing::Run(env.Cmd("apply", file));
    INFO(rerun.out << rerun.err);
    REQUIRE(rerun.exit_code == 0);
    Inventory got = env.daemon.hv().List();
    CheckSame(got, want);
    bool same = got.domains == want.domains && got.volumes == want.volumes && got.pools == want.pools &&
                got.networks == want.networks;
    survived += same;
    REQUIRE(testing::Run(env.Cmd("destroy", "--all")).exit_code == 0);
    CheckSame(env.daemon.hv().List(), baseline);
  }
  WARN("crash points survived: " << survived << " of " << records);
  CHECK(survived == records);
}

TEST_CASE("a Windows VM gets the install media and its answer ISO, with the admin password filled in") {
  testing::TempDir t;
  // The kit, built by the CLI from user-supplied media: a sparse 3000 MiB
  // file with a UDF anchor volume descriptor (tag 2, location 256) at sector 256.
  std::string iso = t / "media/server.iso";
  std::filesystem::create_directories(t / "media");
  auto mk = testing::Run("truncate -s 3000M " + iso + " && printf '\\002' | dd of=" + iso +
                         " bs=1 seek=524288 conv=notrunc status=none && printf '\\001' | dd of=" + iso +
                         " bs=1 seek=524301 conv=notrunc status=none");
  REQUIRE(mk.exit_code == 0);
  auto kit = testing::Run("cd " + testing::SourceDir() + " && " + testing::Slipway() +
                          " build image images/windows-node.toml --windows-media " + t / "media/server.iso" +
                          " --out " + t / "images");
  INFO(kit.out << kit.err);
  REQUIRE(kit.exit_code == 0);
  Plan plan = MakeTestPlan(0, 1, 1, 1, "win");  // one Windows worker
  const PlanVm* win = nullptr;
  for (const PlanVm& vm : plan.vms) {
    if (vm.os == "windows") win = &vm;
  }
  REQUIRE(win);
  auto hv = Hypervisor::Connect("test:///default");
  REQUIRE(hv.ok());
  ApplyOptions o;
  o.state_dir = t / "state";
  o.storage_root = t / "root";
  o.images_dir = t / "images";
  std::vector<std::string> notes;
  auto sum = Apply(
      plan, **hv, o, [&](const StepEvent& e) { notes.push_back(e.detail); }, nullptr);
  INFO((sum.ok() ? "" : sum.error().ToString()));
  REQUIRE(sum.ok());
  // The answer ISO sits next to the seed on the CSV, 0600, with the
  // password from the secret store and no reference left.
  std::string answer;
  for (const char* v : {"Volume1", "Volume2", "Volume3"}) {
    std::string p = t / "root/ClusterStorage/" + v + "/slipway/" + win->name + "-answer.iso";
    if (std::filesystem::exists(p)) answer = p;
  }
  struct stat st {};
  REQUIRE(::stat(answer.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto files = testing::ReadIsoFiles(answer);
  std::string password = testing::ReadText(t / "state/secrets/password_windows-admin");
  REQUIRE(password.size() >= 16);
  CHECK(files["autounattend.xml"].find("<Value>" + password + "</Value>") != std::string::npos);
  CHECK(files["autounattend.xml"].find("{{secret:") == std::string::npos);
  CHECK(files.count("slipway/firstboot.ps1"));
  // The domain has three CD-ROMs: the config-2 seed, the media, the answer.
  std::string xml = (*hv)->Domain(win->name).xml;
  INFO(xml);
  CHECK(xml.find(win->name + "-seed.iso'") != std::string::npos);
  CHECK(xml.find(t / "media/server.iso") != std::string::npos);
  CHECK(xml.find(win->name + "-answer.iso'") != std::string::npos);
  CHECK(xml.find("<target dev='sdc' bus='sata'/>") != std::string::npos);
  // The password is in no log or plan.
  for (const std::string& n : notes) CHECK(n.find(password) == std::string::npos);
  CHECK(nlohmann::json(plan).dump().find(password) == std::string::npos);
}

TEST_CASE("without the Windows kit the Windows VM is defined without media, and the note says how to supply it") {
  testing::TempDir t;
  Plan plan = MakeTestPlan(0, 1, 1, 1, "win");  // one Windows worker
  auto hv = Hypervisor::Connect("test:///default");
  REQUIRE(hv.ok());
  ApplyOptions o;
  o.state_dir = t / "state";
  o.storage_root = t / "root";
  std::vector<std::string> notes;
  auto sum = Apply(
      plan, **hv, o, [&](const StepEvent& e) { notes.push_back(e.detail); }, nullptr);
  REQUIRE(sum.ok());
  bool told = false;
  for (const std::string& n : notes) {
    told = told || n.find("no Windows node kit windows-node-answer.iso in (no --images folder)") != std::string::npos;
  }
  CHECK(told);
  for (const PlanVm& vm : plan.vms) {
    if (vm.os != "windows") continue;
    for (const char* v : {"Volume1", "Volume2", "Volume3"}) {
      CHECK_FALSE(std::filesystem::exists(t / "root/ClusterStorage/" + v + "/slipway/" + vm.name + "-answer.iso"));
    }
    CHECK((*hv)->Domain(vm.name).xml.find("-answer.iso") == std::string::npos);
  }
  // A second apply keeps everything.
  auto again = Apply(plan, **hv, o, nullptr, nullptr);
  REQUIRE(again.ok());
  CHECK(again->created == 0);
}

TEST_CASE("a bridge-mode network is defined on the host bridge, with no NAT, DHCP or address of its own") {
  Env env;
  REQUIRE(env.daemon.ok());
  Plan plan = MakeTestPlan(1, 0, 1, 1, "brm");
  plan.networks[1].mode = NetworkMode::kBridge;
  plan.networks[1].bridge = "slwbr0";
  std::string file = WritePlan(env.dir, plan);
  auto r = testing::Run(env.Cmd("apply", file));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::string xml = env.daemon.hv().Network(plan.networks[1].name).xml;
  CHECK(xml.find("<forward mode='bridge'/>") != std::string::npos);
  CHECK(xml.find("<bridge name='slwbr0'/>") != std::string::npos);
  CHECK(xml.find("<ip ") == std::string::npos);
  // The NAT network keeps its gateway address and DNS (libvirt's dnsmasq).
  std::string nat = env.daemon.hv().Network(plan.networks[0].name).xml;
  CHECK(nat.find("<forward mode='nat'") != std::string::npos);
  CHECK(nat.find("<dns enable='no'") == std::string::npos);
  REQUIRE(testing::Run(env.Cmd("destroy", "--all")).exit_code == 0);
  // On a VLAN the VMs join the tagged sub-bridge (slipway bridge --vlan).
  plan.networks[1].vlan = 100;
  file = WritePlan(env.dir, plan);
  r = testing::Run(env.Cmd("apply", file));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(env.daemon.hv().Network(plan.networks[1].name).xml.find("<bridge name='slwbr0v100'/>") != std::string::npos);
  REQUIRE(testing::Run(env.Cmd("destroy", "--all")).exit_code == 0);
}
