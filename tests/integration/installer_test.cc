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
  CHECK(report["phases"].size() == 7);
  for (const auto& p : report["phases"]) CHECK(p["ok"] == true);
  for (const auto& c : report["preflight"]) CHECK(c["state"] == "PASS");
  auto plan = nlohmann::json::parse(testing::ReadText(t / "state/plan.json"));
  CHECK(report["plan"]["vms"] == plan["vms"].size());
  CHECK(report["plan"]["clusters"]["lab"] == 3);
  CHECK(report["plan"]["clusters"]["mgmt"] == 2);
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
                                   "STATUS=ChooseProfile",
                                   "STATUS=Hardware profile lab (from the answer file)",
                                   "STATUS=Plan",
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
                                   "STATUS=Report",
                                   "STATUS=Finished: ok",
                                   "STOPPING=1"};
  CHECK(notify.Messages() == want);
  // A restart resumes: nothing left to create.
  r = testing::Run(cmd);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("steps:    0 created") != std::string::npos);
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
