// The first-boot installation, phase by phase: Discover -> Preflight ->
// ChooseProfile -> Plan -> ManagementCluster -> WorkloadClusters -> HostDisk
// -> Report.
// It only strings together the library pieces (detect, answer files, match,
// planner, executor); the report is written atomically at the end, whatever
// the outcome.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::installer {

struct InstallOptions {
  std::string sysroot = "/";
  std::string answer;  ///< --answer PATH (last in the discovery order)
  std::string state_dir = "/var/lib/slipway";
  std::string connect;       ///< libvirt URI; overrides the answer file's libvirt_uri
  std::string storage_root;  ///< prefix for CSV paths (demos, tests)
  std::string fs_usage;      ///< recorded CSV usage for fixture sysroots
  std::string data_dir;      ///< holds profiles/ and firmware/
  std::string images_dir;
  std::string host_system_dir;  ///< --host-system DIR: the host system images (else slipway/host on the medium)
  std::vector<std::string> skip_checks;
  std::string profile_override;  ///< a hardware profile chosen over the answer file's (D-Bus Start)
  bool terminal = false;         ///< stdin is a terminal (interactive mode possible)
  /// How long to wait, after the apply, for each Linux VM's ready marker on
  /// its serial log (STATE/console/<vm>.log); 0 does not wait. Test-driver
  /// installs never wait (their VMs run nothing).
  int ready_timeout_s = 600;
  /// The accelerator of the VMs on a local QEMU driver: "auto" boots a probe
  /// guest under KVM (installer/detect/kvm_probe.h) and uses KVM only when it
  /// runs; "kvm" and "tcg" choose without probing.
  std::string accel = "auto";
  /// Before anything is created, ARP-probe (RFC 5227, as `arping -D`) every
  /// address that a bridge-mode network hands out; refuse when one answers.
  bool probe = false;
};

struct ProfileMatch;

/// What a person chose in the interactive menu.
struct MenuChoice {
  std::string profile;
  std::vector<std::string> clusters;
};

/// Progress for sd_notify, the console and D-Bus, and the interactive menu.
struct InstallSink {
  std::function<void(const std::string& phase)> phase;
  std::function<void(const std::string& status)> status;  ///< one line, e.g. "Creating workload cluster prod: 7/15 VMs"
  std::function<bool()> cancelled;                        ///< checked at each phase boundary
  /// Interactive mode (no answer file, a terminal): shows the profiles with
  /// how each fits, and the clusters; returns the choice, or nothing to stop.
  std::function<std::optional<MenuChoice>(const std::vector<ProfileMatch>& profiles,
                                          const std::vector<std::string>& clusters)>
      choose;
  /// Interactive mode: shows the plan summary; true to go ahead.
  std::function<bool(const std::string& summary)> confirm;
  /// Interactive mode, when an install-disk rule chose a disk: shows what
  /// will be erased (`listing`) and returns true only when the person typed
  /// the disk's name (`disk`) back.
  std::function<bool(const std::string& listing, const std::string& disk)> confirm_disk;
};

struct InstallOutcome {
  nlohmann::json report;
  ExitCode code = ExitCode::kOk;
};

/// The phases, in order.
const std::vector<std::string>& InstallPhases();

/// Runs the whole installation. Never throws; failures are in the outcome
/// (and the report) with the exit code to use. On a host whose install
/// finished (STATE/installed), it converges instead (RunConverge).
InstallOutcome RunInstall(const InstallOptions& options, const InstallSink& sink);

/// Every boot after a finished install: reads STATE/plan.json and brings
/// libvirt back to it through the executor (networks, pools, volumes and
/// domains defined if missing, autostarted domains started; drift is
/// reported and nothing is overwritten). Phases "Converging", then "Running"
/// with the VM count. Appends the boot to STATE/report.json ("boots") and
/// sets report "domains" (name, cluster, state); "final_phase" is "Running".
InstallOutcome RunConverge(const InstallOptions& options, const InstallSink& sink);

}  // namespace slipway::installer
