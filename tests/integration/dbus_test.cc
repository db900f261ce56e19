// The installer's D-Bus API on a real dbus-daemon started by the test, with
// the shipped policy file: properties, signals, GetReport, slipway status
// --follow, and Start refused to a non-root caller (by the bus policy, and by
// the service's own credential check on a permissive bus).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "libvirt_daemon.h"

using namespace slipway;

namespace {

class DbusDaemon {
 public:
  explicit DbusDaemon(bool with_policy) {
    // Other users (the non-root caller) must reach the socket.
    ::chmod(dir_.path().c_str(), 0755);
    address_ = "unix:path=" + dir_ / "bus";
    std::string conf =
        "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\" "
        "\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig>\n  <listen>" +
        address_ +
        "</listen>\n  <auth>EXTERNAL</auth>\n  <policy context=\"default\">\n    <allow user=\"*\"/>\n"
        "    <allow send_destination=\"*\"/>\n    <allow receive_sender=\"*\"/>\n" +
        std::string(with_policy ? "" : "    <allow own=\"*\"/>\n") + "  </policy>\n" +
        (with_policy ? "  <include>" + testing::SourceDir() + "/installer/dbus/org.slipway.Installer1.conf</include>\n"
                     : std::string()) +
        "</busconfig>\n";
    testing::WriteText(dir_ / "bus.conf", conf);
    auto r = testing::Run("dbus-daemon --config-file=" + dir_ / "bus.conf" + " --fork --print-pid=1");
    pid_ = std::atoi(r.out.c_str());
  }
  ~DbusDaemon() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
  }
  const std::string& address() const { return address_; }
  bool ok() const { return pid_ > 0; }

 private:
  testing::TempDir dir_;
  std::string address_;
  int pid_ = 0;
};

std::string Installer() {
  std::string s = testing::Slipway();
  return s.substr(0, s.rfind('/')) + "/slipway-installer";
}

std::string Busctl(const std::string& address, const std::string& args) {
  return "busctl --address=" + address + " " + args;
}

const char* kObj = "org.slipway.Installer1 /org/slipway/Installer1 org.slipway.Installer1";

}  // namespace

TEST_CASE("the D-Bus API: Start by root, signals, properties, report, and slipway status --follow") {
  testing::LibvirtDaemon lv;
  if (!lv.ok()) FAIL(lv.log());
  DbusDaemon bus(true);
  REQUIRE(bus.ok());
  testing::TempDir t;
  std::string fx = testing::Fixtures() + "/hosts/lab-csv";
  std::system((Installer() + " --bus " + bus.address() + " --wait --linger 15 --sysroot " + fx + " --fs-usage " + fx +
               "/statvfs.json --answer " + testing::SourceDir() + "/profiles/fleet/lab.toml --state " + t / "state" +
               " --storage-root " + t / "root" + " --connect '" + lv.uri() + "' </dev/null >" + t / "out.log" +
               " 2>&1 &")
                  .c_str());
  auto phase = [&] { return testing::Run(Busctl(bus.address(), std::string("get-property ") + kObj + " Phase")).out; };
  for (int i = 0; i < 100 && phase() != "s \"Idle\"\n"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(phase() == "s \"Idle\"\n");
  // Signals, watched by a monitor for the whole run.
  std::system((Busctl(bus.address(), "monitor --match=path=/org/slipway/Installer1") + " >" + t / "monitor.log" +
               " 2>&1 & echo $! >" + t / "monitor.pid")
                  .c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // A non-root caller is refused by the shipped policy.
  auto denied = testing::Run("setpriv --reuid=nobody --regid=nogroup --clear-groups " +
                             Busctl(bus.address(), std::string("call ") + kObj + " Start s ''"));
  CHECK(denied.exit_code != 0);
  CHECK(denied.err.find("Access denied") != std::string::npos);
  CHECK(phase() == "s \"Idle\"\n");

  auto start = testing::Run(Busctl(bus.address(), std::string("call ") + kObj + " Start s ''"));
  INFO(start.err);
  REQUIRE(start.exit_code == 0);
  auto status = testing::Run(testing::Slipway() + " status --follow --bus " + bus.address());
  INFO(status.out << status.err << testing::ReadText(t / "out.log"));
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("100%  Done") != std::string::npos);
  auto props = testing::Run(Busctl(bus.address(), std::string("get-property ") + kObj + " Profile HostId Progress"));
  CHECK(props.out == "s \"lab\"\ns \"mac-02:fc:00:00:00:01\"\nu 100\n");
  auto report = testing::Run(Busctl(bus.address(), "--json=short call " + std::string(kObj) + " GetReport"));
  auto j = nlohmann::json::parse(nlohmann::json::parse(report.out)["data"][0].get<std::string>());
  CHECK(j["result"] == "ok");
  CHECK(j["host_name"] == "lab-01");
  auto plan = testing::Run(Busctl(bus.address(), "--json=short call " + std::string(kObj) + " GetPlan"));
  CHECK(nlohmann::json::parse(nlohmann::json::parse(plan.out)["data"][0].get<std::string>())["vms"].size() == 5);
  auto again = testing::Run(Busctl(bus.address(), std::string("call ") + kObj + " Start s ''"));
  CHECK(again.err.find("already started") != std::string::npos);
  std::system(("kill $(cat " + t / "monitor.pid" + ")").c_str());
  std::string mon = testing::ReadText(t / "monitor.log");
  CHECK(mon.find("Member=PhaseChanged") != std::string::npos);
  CHECK(mon.find("STRING \"ManagementCluster\"") != std::string::npos);
  CHECK(mon.find("Member=StepFinished") != std::string::npos);
  CHECK(mon.find("Member=PropertiesChanged") != std::string::npos);
}

TEST_CASE("without the bus policy, the service itself refuses Start from a non-root caller") {
  DbusDaemon bus(false);
  REQUIRE(bus.ok());
  testing::TempDir t;
  std::system((Installer() + " --bus " + bus.address() + " --wait --linger 1 --answer /nonexistent --state " +
               t / "state </dev/null >" + t / "out.log 2>&1 & echo $! >" + t / "pid")
                  .c_str());
  auto phase = [&] { return testing::Run(Busctl(bus.address(), std::string("get-property ") + kObj + " Phase")).out; };
  for (int i = 0; i < 100 && phase() != "s \"Idle\"\n"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(phase() == "s \"Idle\"\n");
  auto denied = testing::Run("setpriv --reuid=nobody --regid=nogroup --clear-groups " +
                             Busctl(bus.address(), std::string("call ") + kObj + " Cancel"));
  CHECK(denied.exit_code != 0);
  // This bus allows everything, so the refusal can only come from the
  // service's own check (busctl shows AccessDenied as "Access denied").
  INFO(denied.err);
  CHECK(denied.err.find("Access denied") != std::string::npos);
  // Read-only calls stay open to everyone.
  auto read = testing::Run("setpriv --reuid=nobody --regid=nogroup --clear-groups " +
                           Busctl(bus.address(), std::string("get-property ") + kObj + " Progress"));
  CHECK(read.out == "u 0\n");
  std::system(("kill $(cat " + t / "pid" + ")").c_str());
}

TEST_CASE("a boot after the install: D-Bus shows Converging then Running, and slipway status lists the VMs") {
  testing::LibvirtDaemon lv;
  if (!lv.ok()) FAIL(lv.log());
  DbusDaemon bus(true);
  REQUIRE(bus.ok());
  testing::TempDir t;
  std::string fx = testing::Fixtures() + "/hosts/lab-csv";
  std::string args = " --sysroot " + fx + " --fs-usage " + fx + "/statvfs.json --answer " + testing::SourceDir() +
                     "/profiles/fleet/lab.toml --state " + t / "state" + " --storage-root " + t / "root" +
                     " --connect '" + lv.uri() + "' </dev/null";
  REQUIRE(testing::Run(Installer() + args).exit_code == 0);
  // The "reboot": a VM is down; the service converges and stays while the VMs run.
  REQUIRE(testing::Run("virsh -c '" + lv.uri() + "' destroy lab-cp-1").exit_code == 0);
  std::system((Busctl(bus.address(), "monitor --match=path=/org/slipway/Installer1") + " >" + t / "monitor.log" +
               " 2>&1 & echo $! >" + t / "monitor.pid")
                  .c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::system((Installer() + " --bus " + bus.address() + " --stay" + args + " >" + t / "out.log" + " 2>&1 & echo $! >" +
               t / "installer.pid")
                  .c_str());
  auto phase = [&] { return testing::Run(Busctl(bus.address(), std::string("get-property ") + kObj + " Phase")).out; };
  for (int i = 0; i < 100 && phase().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto status = testing::Run(testing::Slipway() + " status --follow --bus " + bus.address());
  INFO(status.out << status.err << testing::ReadText(t / "out.log"));
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("100%  Running  Running: 5 of 5 VMs") != std::string::npos);
  CHECK(status.out.find("5 of 5 VMs running\ncluster lab\n  lab-cp-1  running\n  lab-lb-1  running\n  lab-linux-1  "
                        "running\ncluster mgmt\n  mgmt-apiserver  running\n  mgmt-lb  running\n") != std::string::npos);
  // It keeps serving after the run: a later status still answers.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto later = testing::Run(testing::Slipway() + " status --bus " + bus.address());
  CHECK(later.out.find("Running") != std::string::npos);
  CHECK(lv.hv().Domain("lab-cp-1").active);
  std::system(("kill $(cat " + t / "installer.pid" + ") $(cat " + t / "monitor.pid" + ")").c_str());
  std::string mon = testing::ReadText(t / "monitor.log");
  size_t converging = mon.find("STRING \"Converging\"");
  CHECK(converging != std::string::npos);
  CHECK(mon.find("STRING \"Running\"", converging) != std::string::npos);
  CHECK(testing::ReadText(t / "out.log").find("boots:    1 since the install") != std::string::npos);
}
