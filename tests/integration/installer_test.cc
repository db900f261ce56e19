// slipway-installer end to end: a fixture host, the demo fleet, a libvirtd
// the test starts, and sd_notify messages read from a datagram socket.
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "libvirt_daemon.h"

using namespace slipway;

namespace {

std::string Installer() {
  std::string s = testing::Slipway();
  return s.substr(0, s.rfind('/')) + "/slipway-installer";
}

std::string Fixture() { return testing::Fixtures() + "/hosts/lab-csv"; }

// A NOTIFY_SOCKET the test reads continuously, as systemd would (a datagram
// queue holds only a few messages; a sender blocks when it is full).
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
          std::lock_guard<std::mutex> lock(mu_);
          messages_.emplace_back(buf, static_cast<size_t>(n));
        }
      }
    });
  }
  ~NotifySocket() {
    stop_ = true;
    reader_.join();
    ::close(fd_);
  }
  std::vector<std::string> Messages() {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

 private:
  int fd_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> messages_;
  std::thread reader_;
};

}  // namespace

TEST_CASE("an unattended install on a fixture host: report matches the plan, sd_notify tells each phase") {
  testing::LibvirtDaemon daemon;
  if (!daemon.ok()) FAIL(daemon.log());
  testing::TempDir t;
  NotifySocket notify(t / "notify");
  // Node images on the CSV, where an ISO without --images expects them.
  std::filesystem::create_directories(t / "root/ClusterStorage/Volume1/slipway-images");
  REQUIRE(testing::Run("qemu-img create -q -f qcow2 " +
                       t / "root/ClusterStorage/Volume1/slipway-images/linux-node.qcow2" + " 1G")
              .exit_code == 0);
  std::string cmd = "NOTIFY_SOCKET=" + t / "notify" + " " + Installer() + " --sysroot " + Fixture() + " --fs-usage " +
                    Fixture() + "/statvfs.json --answer " + testing::SourceDir() + "/profiles/fleet/lab.toml --state " +
                    t / "state" + " --storage-root " + t / "root" + " --connect '" + daemon.uri() + "' < /dev/null";
  auto r = testing::Run(cmd);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto report = nlohmann::json::parse(testing::ReadText(t / "state/report.json"));
  CHECK(report["result"] == "ok");
  CHECK(testing::ReadText(t / "state/installed") == "lab-01 installed; see report.json\n");
  CHECK(report["host_name"] == "lab-01");
  CHECK(report["matched_by"] == "MAC 02:fc:00:00:00:01");
  CHECK(report["profile"] == "lab");
  CHECK(report["images"] == "CSV /ClusterStorage/Volume1/slipway-images");
  CHECK(report["answer_file"] == "--answer " + testing::SourceDir() + "/profiles/fleet/lab.toml");
  CHECK(report["phases"].size() == 8);
  for (const auto& p : report["phases"]) CHECK(p["ok"] == true);
  for (const auto& c : report["preflight"]) CHECK(c["state"] == "PASS");
  auto plan = nlohmann::json::parse(testing::ReadText(t / "state/plan.json"));
  CHECK(report["plan"]["vms"] == plan["vms"].size());
  CHECK(report["plan"]["clusters"]["lab"] == 3);
  CHECK(report["plan"]["clusters"]["mgmt"] == 2);
  // The CSV's images carry no Kubernetes bundle (no manifest): said in one line.
  CHECK(report["kubernetes"]["note"] == "no Kubernetes bundle: nodes run etcd and containerd only");
  CHECK(plan["warnings"][0] == "no Kubernetes bundle: nodes run etcd and containerd only");
  // The management VMs sit on the host's network, after its VIP.
  CHECK(plan["clusters"][0]["api_vip"] == "10.50.0.50");
  for (const char* d : {"mgmt-apiserver", "mgmt-lb", "lab-cp-1", "lab-lb-1", "lab-linux-1"}) {
    CHECK(daemon.hv().Domain(d).active);
  }
  std::vector<std::string> want = {"READY=1",
                                   "STATUS=Discover",
                                   "STATUS=Discovered 0 data disk(s) of 1, 1 NIC(s) (02:fc:00:00:00:01), 1 CSV(s) "
                                   "(/ClusterStorage/Volume1)",
                                   "STATUS=Matched host lab-01 by MAC 02:fc:00:00:00:01",
                                   "STATUS=Preflight",
                                   "STATUS=Preflight: 10 of 10 checks passed or skipped",
                                   "STATUS=Install disk: none (live install; no [install_disk] rule); installer "
                                   "state stays on the first CSV",
                                   "STATUS=ChooseProfile",
                                   "STATUS=Hardware profile lab (from the answer file)",
                                   "STATUS=Plan",
                                   "STATUS=no Kubernetes bundle: nodes run etcd and containerd only",
                                   "STATUS=Planned 5 VMs in 2 clusters",
                                   "STATUS=Node images: CSV /ClusterStorage/Volume1/slipway-images",
                                   "STATUS=ManagementCluster",
                                   "STATUS=Creating management cluster: 1/2 VMs",
                                   "STATUS=Creating management cluster: 2/2 VMs",
                                   "STATUS=WorkloadClusters",
                                   "STATUS=Creating workload clusters lab: 1/3 VMs",
                                   "STATUS=Creating workload clusters lab: 2/3 VMs",
                                   "STATUS=Creating workload clusters lab: 3/3 VMs",
                                   "STATUS=Domain mgmt-apiserver: running",
                                   "STATUS=Domain mgmt-lb: running",
                                   "STATUS=Domain lab-cp-1: running",
                                   "STATUS=Domain lab-lb-1: running",
                                   "STATUS=Domain lab-linux-1: running",
                                   "STATUS=HostDisk",
                                   "STATUS=Host disk: none (live install): the host boots the ISO, with its state "
                                   "on the first CSV",
                                   "STATUS=Report",
                                   "STATUS=Finished: ok",
                                   "STOPPING=1"};
  CHECK(notify.Messages() == want);
  // A restart after the install converges: nothing left to create.
  r = testing::Run(cmd);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("steps:    0 created") != std::string::npos);
}

namespace {

// An installed fixture host on `uri`: the command that (re)starts its installer.
std::string InstallCommand(const testing::TempDir& t, const std::string& uri) {
  return Installer() + " --sysroot " + Fixture() + " --fs-usage " + Fixture() + "/statvfs.json --answer " +
         testing::SourceDir() + "/profiles/fleet/lab.toml --state " + t / "state" + " --storage-root " + t / "root" +
         " --connect '" + uri + "' < /dev/null";
}

}  // namespace

TEST_CASE("every boot after the install converges: lost domains defined, stopped ones started, drift reported") {
  testing::LibvirtDaemon daemon;
  if (!daemon.ok()) FAIL(daemon.log());
  testing::TempDir t;
  std::string cmd = InstallCommand(t, daemon.uri());
  auto r = testing::Run(cmd);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  // What a reboot of a live host does to libvirt: a definition lost, a VM down.
  REQUIRE(daemon.hv().DeleteDomain("mgmt-lb"));
  REQUIRE(testing::Run("virsh -c '" + daemon.uri() + "' destroy lab-linux-1").exit_code == 0);
  REQUIRE_FALSE(daemon.hv().Domain("lab-linux-1").active);
  r = testing::Run(cmd);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("== Converging\n") != std::string::npos);
  CHECK(r.out.find("   Converging: domain mgmt-lb was missing; created\n") != std::string::npos);
  CHECK(r.out.find("   Converging: start lab-linux-1 was missing; started\n") != std::string::npos);
  CHECK(r.out.find("== Running\n   Running: 5 of 5 VMs (1 objects re-created,") != std::string::npos);
  CHECK(r.out.find("boots:    1 since the install") != std::string::npos);
  for (const char* d : {"mgmt-apiserver", "mgmt-lb", "lab-cp-1", "lab-lb-1", "lab-linux-1"}) {
    CHECK(daemon.hv().Domain(d).active);
  }
  auto report = nlohmann::json::parse(testing::ReadText(t / "state/report.json"));
  CHECK(report["host_name"] == "lab-01");  // the install's report stays
  CHECK(report["final_phase"] == "Running");
  REQUIRE(report["boots"].size() == 1);
  CHECK(report["boots"][0]["result"] == "ok");
  CHECK(report["boots"][0]["running"] == 5);
  CHECK(report["boots"][0]["phases"][0]["name"] == "Converging");
  CHECK(report["domains"][2] == nlohmann::json{{"name", "lab-cp-1"}, {"cluster", "lab"}, {"state", "running"}});

  // Drift: a domain of the same name that Slipway did not make is reported, never replaced.
  REQUIRE(daemon.hv().DeleteDomain("lab-lb-1"));
  const std::string foreign =
      "<domain type='test'><name>lab-lb-1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
      "<memory>65536</memory><os><type>hvm</type></os></domain>";
  REQUIRE(daemon.hv().DefineDomain(foreign));
  r = testing::Run(cmd);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("drift") != std::string::npos);
  CHECK(r.err.find("domain lab-lb-1 exists with UUID 11111111-2222-3333-4444-555555555555") != std::string::npos);
  CHECK(daemon.hv().Domain("lab-lb-1").xml.find("11111111-2222-3333-4444-555555555555") != std::string::npos);
  report = nlohmann::json::parse(testing::ReadText(t / "state/report.json"));
  CHECK(report["final_phase"] == "Failed");
  REQUIRE(report["boots"].size() == 2);
  CHECK(report["boots"][1]["result"] == "failed");
}

TEST_CASE("a reboot that lost all of libvirt (test driver, in-process) re-defines every planned object") {
  testing::TempDir t;
  std::string cmd = InstallCommand(t, "test:///default");
  auto r = testing::Run(cmd);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  // Each process starts with an empty test driver: the second start is a host after a power cut.
  r = testing::Run(cmd);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("   Converging: domain mgmt-apiserver was missing; created\n") != std::string::npos);
  CHECK(r.out.find("   Converging: network") != std::string::npos);
  CHECK(r.out.find("   Running: 5 of 5 VMs") != std::string::npos);
  auto report = nlohmann::json::parse(testing::ReadText(t / "state/report.json"));
  CHECK(report["boots"][0]["steps"]["kept"] == 0);
}

TEST_CASE("no answer file and no terminal: exit 2 with how to supply one") {
  testing::TempDir t;
  auto r = testing::Run(Installer() + " --sysroot " + Fixture() + " --fs-usage " + Fixture() +
                        "/statvfs.json --state " + t / "state" + " < /dev/null");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no answer file: put one on the kernel command line (slipway.answer=PATH)") != std::string::npos);
  CHECK(nlohmann::json::parse(testing::ReadText(t / "state/report.json"))["result"] == "failed");
}

TEST_CASE("a fleet without this host: exit 3 and a report listing its identity") {
  testing::TempDir t;
  testing::WriteText(t / "fleet.toml",
                     "[[host]]\nname = \"other\"\nmac = \"52:54:00:00:00:99\"\nhardware_profile = \"lab\"\n");
  auto r = testing::Run(Installer() + " --sysroot " + Fixture() + " --fs-usage " + Fixture() +
                        "/statvfs.json --answer " + t / "fleet.toml --state " + t / "state < /dev/null");
  CHECK(r.exit_code == 3);
  auto report = nlohmann::json::parse(testing::ReadText(t / "state/report.json"));
  CHECK(report["host"]["macs"] == std::vector<std::string>{"02:fc:00:00:00:01"});
  CHECK(report["error"].get<std::string>().find("MACs 02:fc:00:00:00:01") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(t / "state/installed"));  // the unit runs again on the next boot
  // fleet report aggregates it, with the reason.
  auto agg = testing::Run(testing::Slipway() + " fleet report " + t / "state");
  CHECK(agg.exit_code == 1);
  CHECK(agg.out.find("0 done, 1 failed") != std::string::npos);
}

TEST_CASE("interactive mode on a terminal: the menu shows how each profile fits, then confirms the plan") {
  testing::LibvirtDaemon daemon;
  if (!daemon.ok()) FAIL(daemon.log());
  testing::TempDir t;
  // script(1) runs the installer on a pseudo-terminal and feeds it our keys:
  // profile 1 (lab, the only one that fits), cluster 2 (lab), then 'y'.
  std::string inner = Installer() + " --sysroot " + Fixture() + " --fs-usage " + Fixture() + "/statvfs.json --state " +
                      t / "state" + " --storage-root " + t / "root" + " --connect '" + daemon.uri() + "'";
  testing::WriteText(t / "run.sh", inner + "\n");
  auto r = testing::Run("printf '1\\n2\\ny\\n' | script -qfec 'bash " + t / "run.sh" + "' " + t / "typescript");
  std::string screen = testing::ReadText(t / "typescript");
  INFO(screen);
  CHECK(r.exit_code == 0);
  CHECK(screen.find("No answer file was found. Hardware profiles for this host:") != std::string::npos);
  CHECK(screen.find("1) lab") != std::string::npos);
  CHECK(screen.find("does not fit: the CPU does not advertise vmx or svm") != std::string::npos);
  CHECK(screen.find("Create these VMs? [y/N]") != std::string::npos);
  auto report = nlohmann::json::parse(testing::ReadText(t / "state/report.json"));
  CHECK(report["result"] == "ok");
  CHECK(report["answer_file"] == "interactive menu");
  CHECK(report["profile"] == "lab");
  CHECK(daemon.hv().Domain("lab-cp-1").active);
}

TEST_CASE("interactive mode: answering no creates nothing") {
  testing::LibvirtDaemon daemon;
  if (!daemon.ok()) FAIL(daemon.log());
  testing::TempDir t;
  std::string inner = Installer() + " --sysroot " + Fixture() + " --fs-usage " + Fixture() + "/statvfs.json --state " +
                      t / "state" + " --storage-root " + t / "root" + " --connect '" + daemon.uri() + "'";
  testing::WriteText(t / "run.sh", inner + "\n");
  auto r = testing::Run("printf '1\\n2\\nn\\n' | script -qfec 'bash " + t / "run.sh" + "' " + t / "typescript");
  CHECK(testing::ReadText(t / "typescript").find("not confirmed; nothing was created") != std::string::npos);
  CHECK_FALSE(daemon.hv().Domain("mgmt-apiserver").exists);
}

TEST_CASE("interactive mode with an install-disk rule: what will be erased is shown, the disk's name is typed back") {
  testing::TempDir t;
  // The twelve-disk host with empty sparse devices; nvme2n1 holds an old file system.
  std::filesystem::copy(testing::Fixtures() + "/hosts/twelve-disks", t / "host",
                        std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  for (const char* d :
       {"nvme0n1", "nvme1n1", "nvme2n1", "nvme3n1", "sda", "sdb", "sdc", "sdd", "sde", "sdf", "sdg", "sdh"}) {
    testing::WriteText(t / "host/dev/" + d, "");
    std::filesystem::resize_file(t / "host/dev/" + d, 64ull << 20);
  }
  REQUIRE(testing::Run("mkfs.ext4 -q -F -L olddata " + t / "host/dev/nvme2n1").exit_code == 0);
  // The bundled profiles, each with a rule that names nvme2n1 and allows the wipe.
  std::filesystem::create_directories(t / "data");
  std::filesystem::copy(testing::SourceDir() + "/profiles", t / "data/profiles",
                        std::filesystem::copy_options::recursive);
  std::filesystem::copy(testing::SourceDir() + "/firmware", t / "data/firmware",
                        std::filesystem::copy_options::recursive);
  for (const auto& e : std::filesystem::directory_iterator(t / "data/profiles/hardware")) {
    testing::WriteText(e.path().string(), testing::ReadText(e.path().string()) +
                                              "\n[install_disk]\nserial = \"S64HNE0R100002\"\nwipe = true\n");
  }
  std::string inner = "SLIPWAY_DATA=" + t / "data" + " " + Installer() + " --sysroot " + t / "host" + " --fs-usage " +
                      t / "host/statvfs.json --state " + t / "state" + " --storage-root " + t / "root" +
                      " --connect test:///default";
  testing::WriteText(t / "run.sh", inner + "\n");
  // Profile 1, no workload cluster, then a wrong name: nothing goes ahead.
  auto r = testing::Run("printf '1\\n\\nsda\\n' | script -qfec 'bash " + t / "run.sh" + "' " + t / "typescript");
  std::string screen = testing::ReadText(t / "typescript");
  INFO(screen);
  CHECK(screen.find("The host system goes to nvme2n1 (nvme2n1 is the only disk that matches serial = "
                    "\"S64HNE0R100002\", wipe = true") != std::string::npos);
  CHECK(screen.find("It erases: nvme2n1: nvme2n1 ext4 'olddata'") != std::string::npos);
  CHECK(screen.find("    never: is the boot medium (/run/live/medium is mounted from sdg1)") != std::string::npos);
  CHECK(screen.find("Type the disk's name (nvme2n1) to erase it; anything else stops:") != std::string::npos);
  CHECK(screen.find("the install disk nvme2n1 was not confirmed; nothing was written") != std::string::npos);
  CHECK(screen.find("Create these VMs?") == std::string::npos);
  // The right name goes on to the plan summary (answered no: nothing is created).
  r = testing::Run("printf '1\\n\\nnvme2n1\\nn\\n' | script -qfec 'bash " + t / "run.sh" + "' " + t / "typescript2");
  screen = testing::ReadText(t / "typescript2");
  INFO(screen);
  CHECK(screen.find("Create these VMs? [y/N]") != std::string::npos);
  CHECK(testing::Run("blkid -s LABEL -o value " + t / "host/dev/nvme2n1").out == "olddata\n");
}

TEST_CASE(
    "unattended: an install-disk rule that would take the boot disk stops the install with exit 3 and the listing") {
  testing::TempDir t;
  // The demo fleet, with a rule whose only match is vda, the disk / is mounted from.
  testing::WriteText(t / "fleet.toml", testing::ReadText(testing::SourceDir() + "/profiles/fleet/lab.toml") +
                                           "[host.install_disk]\ntransport = \"virtio\"\nwipe = true\n");
  auto r = testing::Run(Installer() + " --sysroot " + Fixture() + " --fs-usage " + Fixture() +
                        "/statvfs.json --answer " + t / "fleet.toml" + " --state " + t / "state" + " --storage-root " +
                        t / "root" + " --connect test:///default < /dev/null");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("   Install disk: refused: the install-disk rule transport = \"virtio\", wipe = true (answer file " +
                   t / "fleet.toml" +
                   " (host 'lab-01')) matches only vda, which is the boot medium (/ is mounted "
                   "from vda)") != std::string::npos);
  CHECK(r.err.find("Disks on this host:\n  vda  256 GiB  hdd  virtio") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(t / "state/installed"));
  CHECK_FALSE(std::filesystem::exists(t / "state/plan.json"));  // stopped before Plan
  auto report = nlohmann::json::parse(testing::ReadText(t / "state/report.json"));
  CHECK(report["install_disk"]["mode"] == "disk");
  CHECK(report["install_disk"]["disk"] == "");
  CHECK(report["install_disk"]["disks"][0]["verdict"] == "never");
}
