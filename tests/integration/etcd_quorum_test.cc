// A real etcd quorum (label slow: six guests under TCG, about 10 to 20
// minutes on a shared 2-core machine, past CI's budget; run with
// `cd build && ctest -L slow -R quorum`). `slipway apply` deploys a workload
// cluster of three control planes (tests/fixtures/boot/etcd-quorum.toml)
// from the full node image on libvirt's QEMU driver; each runs one etcd
// member (Debian's etcd 3.4) with the certificates apply issued. etcdctl on
// the host, in the private libvirtd's network namespace, checks, in the
// order an operator lives it: the quorum forms over TLS; a key written
// through one member is read through another; a client without a
// certificate is refused; with one control plane lost (domain and disk
// gone) the other two stay healthy and take writes; after `apply` recreates
// the lost VM, it rejoins (member remove + add, a fresh data folder with
// initial-cluster-state existing) and the cluster has three healthy members.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "etcd_client.h"
#include "full_images.h"
#include "installer/plan/plan.h"
#include "qemu.h"
#include "qemu_libvirtd.h"
#include "test_util.h"

using namespace slipway;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Polls until `done` holds or `timeout_s` pass; returns the seconds it took, -1 on timeout.
template <typename F>
double WaitFor(int timeout_s, F done) {
  auto t0 = Clock::now();
  while (Since(t0) < timeout_s) {
    if (done()) return Since(t0);
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  return -1;
}

}  // namespace

TEST_CASE("three control planes form an etcd quorum over TLS that survives losing one and takes it back after apply",
          "[slow]") {
  testing::TempDir dir;
  testing::StageFullImages(dir);
  std::string lab = testing::Fixtures() + "/hosts/lab-csv";
  auto planned = testing::Run(testing::Slipway() + " plan --sysroot " + lab + " --fs-usage " + lab +
                              "/statvfs.json --profile smoke --cluster " + testing::Fixtures() +
                              "/boot/etcd-quorum.toml --out " + dir / "plan.json");
  INFO(planned.out << planned.err);
  REQUIRE(planned.exit_code == 0);
  installer::Plan plan = nlohmann::json::parse(testing::ReadText(dir / "plan.json")).get<installer::Plan>();
  std::vector<std::string> eps = testing::EtcdCtl::Endpoints(plan, "eq");
  REQUIRE(eps.size() == 3);
  std::vector<const installer::PlanVm*> members;
  for (const auto& vm : plan.vms) {
    if (vm.cluster == "eq" && vm.role == "control-plane") members.push_back(&vm);
  }
  REQUIRE(members.size() == 3);
  const std::string all = Join(eps, ",");

  testing::QemuLibvirtd daemon;
  INFO(daemon.log());
  REQUIRE(daemon.ok());
  const std::string state = dir / "state";
  std::string apply = testing::Slipway() + " apply " + dir / "plan.json" + " --connect '" + daemon.uri() +
                      "' --state " + state + " --storage-root " + dir / "root" + " --images " + dir / "images" +
                      " --yes";
  // The cluster under test is eq's three control planes: the other guests
  // (the management cluster, eq's load balancer) are stopped as soon as
  // they start, so that the members have the machine's two cores.
  auto stop_others = [&] {
    for (const auto& vm : plan.vms) {
      if (vm.cluster != "eq" || vm.role != "control-plane") daemon.Virsh("destroy " + vm.name);
    }
  };
  auto t_apply = Clock::now();
  auto applied = testing::Run(apply);
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  stop_others();
  WARN("apply: " << Since(t_apply) << " s");

  // 1. The quorum forms: every member healthy over TLS, asked through all.
  testing::EtcdCtl ctl(daemon, state, "eq");
  std::string report;
  double quorum = WaitFor(1500, [&] { return ctl.Healthy(all, &report).size() == 3; });
  INFO("endpoint health --cluster:\n" << report);
  for (const auto* vm : members) {
    INFO(vm->name << " console:\n" << testing::Tail(testing::ReadText(state + "/console/" + vm->name + ".log"), 4000));
    CHECK(quorum > 0);
  }
  REQUIRE(quorum > 0);
  double quorum_s = Since(t_apply);
  WARN("etcd quorum of 3 healthy members over TLS: " << quorum_s << " s after apply started");
  auto list = ctl.Run(all, "member list");
  INFO(list.out << list.err);
  CHECK(std::count(list.out.begin(), list.out.end(), '\n') == 3);
  for (const auto* vm : members) CHECK(list.out.find(", started, " + vm->name + ", ") != std::string::npos);

  // 2. A key written through one member is read through another.
  auto put = ctl.Run(eps[0], "put /slipway/test written-through-" + members[0]->name);
  INFO(put.out << put.err);
  REQUIRE(put.exit_code == 0);
  auto got = ctl.Run(eps[1], "get /slipway/test --print-value-only");
  INFO(got.out << got.err);
  CHECK(got.out == "written-through-" + members[0]->name + "\n");

  // 5. A client without a certificate is refused, by every member.
  for (const std::string& ep : eps) {
    auto anon = ctl.Run(ep, "endpoint health", false);
    INFO(ep << ": " << anon.out << anon.err);
    CHECK(anon.exit_code != 0);
    CHECK((anon.out + anon.err).find(ep + " is unhealthy") != std::string::npos);
    auto anon_get = ctl.Run(ep, "get /slipway/test --print-value-only", false);
    CHECK(anon_get.exit_code != 0);
    CHECK(anon_get.out.find("written-through") == std::string::npos);
  }

  // 3. One control plane is lost: its domain and its disks are gone.
  const installer::PlanVm& lost = *members[2];
  std::string pool;
  for (const auto& p : plan.pools) {
    if (p.id == lost.disks[0].pool_id) pool = p.name;
  }
  auto t_lost = Clock::now();
  daemon.Virsh("destroy " + lost.name);
  daemon.Virsh("undefine " + lost.name);
  for (const auto& disk : lost.disks) {
    std::string out = daemon.Virsh("vol-delete --pool " + pool + " " + disk.name);
    INFO(out);
    CHECK(out.find("deleted") != std::string::npos);
  }
  REQUIRE(!daemon.hv().Domain(lost.name).exists);
  const std::string two = eps[0] + "," + eps[1];
  double degraded = WaitFor(120, [&] {
    auto h = ctl.Healthy(two, &report);
    return Has(h, eps[0]) && Has(h, eps[1]) && !Has(h, eps[2]);
  });
  INFO("endpoint health --cluster with " << lost.name << " lost:\n" << report);
  CHECK(degraded >= 0);
  auto put2 = ctl.Run(two, "put /slipway/after-loss two-of-three");
  INFO(put2.out << put2.err);
  CHECK(put2.exit_code == 0);
  CHECK(ctl.Run(eps[1], "get /slipway/after-loss --print-value-only").out == "two-of-three\n");
  WARN("with " << lost.name << " lost, the other two healthy and writable " << Since(t_lost) << " s after");

  // 4. apply recreates the lost VM from the plan (a fresh disk, the same
  // seed and certificate); its member rejoins.
  fs::rename(state + "/console/" + lost.name + ".log", state + "/console/" + lost.name + ".before-loss.log");
  auto t_rejoin = Clock::now();
  auto reapplied = testing::Run(apply);
  INFO(reapplied.out << reapplied.err);
  REQUIRE(reapplied.exit_code == 0);
  stop_others();
  CHECK(daemon.hv().Domain(lost.name).active);
  double rejoined = WaitFor(1200, [&] { return ctl.Healthy(all, &report).size() == 3; });
  std::string console = testing::ReadText(state + "/console/" + lost.name + ".log");
  INFO("endpoint health --cluster:\n" << report << "\n" << lost.name << " console:\n" << testing::Tail(console, 4000));
  REQUIRE(rejoined > 0);
  WARN(lost.name << " recreated by apply and back in the quorum " << Since(t_rejoin) << " s after apply started");
  CHECK(console.find("slipway-etcd-join: removed the old member") != std::string::npos);
  CHECK(console.find("slipway-etcd-join: " + lost.name + " starts with initial-cluster-state existing") !=
        std::string::npos);
  list = ctl.Run(all, "member list");
  INFO(list.out << list.err);
  CHECK(std::count(list.out.begin(), list.out.end(), '\n') == 3);
  CHECK(list.out.find(", started, " + lost.name + ", ") != std::string::npos);
  // The rejoined member serves what was written while it was gone.
  CHECK(ctl.Run(eps[2], "get /slipway/after-loss --print-value-only").out == "two-of-three\n");

  auto destroyed = testing::Run(testing::Slipway() + " destroy --all --connect '" + daemon.uri() + "' --state " +
                                state + " --storage-root " + dir / "root");
  INFO(destroyed.out << destroyed.err);
  CHECK(destroyed.exit_code == 0);
}
