// slipway-installer: the first-boot service (Type=notify). It tells systemd
// READY=1 once started, STATUS= on every phase and step, STOPPING=1 at the
// end, and prints the same lines and the final report on its console.
#include <systemd/sd-daemon.h>
#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/host_context.h"
#include "common/args.h"
#include "common/state_lock.h"
#include "common/strings.h"
#include "installer/detect/match.h"
#include "installer/service/dbus_service.h"
#include "installer/service/install_run.h"

namespace slipway::cli {

namespace {

constexpr const char* kInstallerHelp =
    "usage: slipway-installer [--answer PATH] [--sysroot DIR] [--state DIR] [--connect URI]\n"
    "                         [--storage-root DIR] [--fs-usage FILE] [--images DIR] [--skip-check NAME]...\n"
    "                         [--host-system DIR]\n"
    "                         [--ready-timeout SECONDS] [--accel auto|kvm|tcg]\n"
    "                         [--probe]\n\n"
    "Runs the first-boot installation unattended: Discover -> Preflight -> ChooseProfile ->\n"
    "Plan -> ManagementCluster -> WorkloadClusters -> HostDisk -> Report. The answer file is found on\n"
    "the kernel command line (slipway.answer=PATH), at /slipway/answer.toml on the boot\n"
    "medium, on a file system labelled SLIPWAY, or with --answer, in that order. The\n"
    "report is written to STATE/report.json (default /var/lib/slipway) and printed.\n"
    "Restarting resumes: the executor's journal in STATE makes every step idempotent;\n"
    "STATE/installed marks a finished install: every later start converges instead\n"
    "(Converging -> Running): libvirt is brought back to STATE/plan.json, missing\n"
    "networks, pools, volumes and domains are defined and started, drift is reported\n"
    "and never overwritten, and the boot is appended to the report. Node images (NAME.qcow2, the Windows\n"
    "kit) come from --images, else slipway/images on the boot medium, else\n"
    "slipway-images on a CSV. VMs are created through --connect URI, else the\n"
    "answer file's libvirt_uri, else qemu:///system (waited for while libvirtd starts).\n\n"
    "  --bus ADDRESS|system  serve org.slipway.Installer1 on that bus while running\n"
    "  --wait                with --bus: run only when a client calls Start\n"
    "  --linger SECONDS      with --bus: keep serving that long after the run\n"
    "  --stay                with --bus: after a boot that converged (Running), keep\n"
    "                        serving until stopped, so 'slipway status' shows the VMs\n"
    "  --ready-timeout SECONDS  after the apply, wait that long (default 600; 0: not\n"
    "                        at all) for each Linux VM's ready line on its serial\n"
    "                        log; late VMs are reported, not failed\n"
    "  --accel auto|kvm|tcg  how the VMs run on a local QEMU driver. auto (default)\n"
    "                        boots a probe guest with KVM (QEMU -accel kvm and the\n"
    "                        boot medium's kernel, at most 20 s) and uses KVM only\n"
    "                        when that guest's kernel prints; otherwise TCG\n"
    "                        (emulation, much slower). The choice and the reason are\n"
    "                        in the report\n"
    "  --probe               before anything is created, ARP-probe (as arping -D) every\n"
    "                        node IP and VIP of the bridge-mode clusters on the uplink;\n"
    "                        refuse, changing nothing, when one is already in use\n\n"
    "Without an answer file and with a terminal on stdin, a menu shows each hardware\n"
    "profile and how it fits this host, then the clusters, then the plan summary to\n"
    "confirm before anything is created. Without a terminal it exits 2.\n\n"
    "Install disk: an [install_disk] rule (the host's entry, [defaults], or the\n"
    "hardware profile) must match exactly one writable disk, or the install stops\n"
    "(exit 3) listing every disk; interactive mode shows what would be erased and\n"
    "asks for the disk's name typed back. Phase HostDisk then writes the host system to\n"
    "it (a GPT with BIOS boot, ESP, system A, an empty system B, and an ext4 data\n"
    "partition for persistent /etc and /var) from slipway/host on the boot medium, or\n"
    "--host-system DIR; each step is journaled in STATE/host-disk.json, so an install\n"
    "killed during the write says so on the next boot and writes the disk again.\n"
    "The installer's state stays on the first CSV. Without a rule the host installs\n"
    "live: it keeps booting the ISO.\n\n"
    "Exit codes: 0 installed, 1 runtime failure, 2 bad input (no or bad answer file,\n"
    "a plan that does not fit the host's network, an address already in use on\n"
    "--probe), 3 host not suitable (no host entry matches this machine, preflight\n"
    "failed, no install disk, the plan does not fit its CSVs).\n";

// "uefi, Secure Boot on, TPM 2.0" from report.json's host.
std::string FirmwareLine(const nlohmann::json& r) {
  if (!r.contains("host")) return "?";
  const auto& h = r["host"];
  std::string out = h.value("firmware", std::string("?"));
  if (h.contains("secure_boot")) {
    const auto& sb = h["secure_boot"];
    out += ", Secure Boot " + (sb.is_boolean() ? std::string(sb.get<bool>() ? "on" : "off")
                                               : "unknown (" + sb.value("unknown", std::string("?")) + ")");
  }
  if (h.contains("tpm")) out += ", TPM " + h["tpm"].get<std::string>();
  return out;
}

// The boot measurements, one per line, under "boot:".
std::string BootLines(const nlohmann::json& r) {
  if (!r.contains("boot")) return "";
  const auto& b = r["boot"];
  std::string out = "boot:     cmdline " + b.value("cmdline", std::string("")) + "\n";
  for (const auto& [file, sha] : b["sha256"].items())
    out += "          sha256 " + sha.get<std::string>() + "  " + file + "\n";
  for (const auto& [pcr, value] : b["pcr_sha256"].items()) {
    out += "          PCR " + pcr + " (sha256) " + value.get<std::string>() + "\n";
  }
  if (b.contains("pcr_note")) out += "          PCRs: " + b["pcr_note"].get<std::string>() + "\n";
  return out;
}

}  // namespace

int RunInstaller(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"help"},
                                 {"answer", true},
                                 {"sysroot", true},
                                 {"state", true},
                                 {"connect", true},
                                 {"storage-root", true},
                                 {"fs-usage", true},
                                 {"images", true},
                                 {"host-system", true},
                                 {"skip-check", true, true},
                                 {"bus", true},
                                 {"wait"},
                                 {"linger", true},
                                 {"stay"},
                                 {"ready-timeout", true},
                                 {"accel", true},
                                 {"probe"}});
  if (!args) return UsageError("installer", args.error(), kInstallerHelp, io);
  if (args->Has("help")) {
    io.out << kInstallerHelp;
    return 0;
  }
  installer::InstallOptions o;
  o.sysroot = args->Get("sysroot", "/");
  o.answer = args->Get("answer");
  o.state_dir = args->Get("state", "/var/lib/slipway");
  o.connect = args->Get("connect");
  o.storage_root = args->Get("storage-root");
  if (!o.storage_root.empty()) o.storage_root = std::filesystem::absolute(o.storage_root).lexically_normal().string();
  o.fs_usage = args->Get("fs-usage");
  o.images_dir = args->Get("images");
  o.host_system_dir = args->Get("host-system");
  o.skip_checks = args->GetAll("skip-check");
  o.data_dir = DataDir();
  o.terminal = ::isatty(STDIN_FILENO);
  if (args->Has("ready-timeout")) {
    std::string v = args->Get("ready-timeout");
    long t = -1;
    if (!v.empty() && v.size() <= 5 && v.find_first_not_of("0123456789") == std::string::npos) t = std::stol(v);
    if (t < 0 || t > 86400) {
      return UsageError("installer", Error::Input("--ready-timeout takes seconds, 0 to 86400"), kInstallerHelp, io);
    }
    o.ready_timeout_s = static_cast<int>(t);
  }

  o.accel = args->Get("accel", "auto");
  o.probe = args->Has("probe");
  if (o.accel != "auto" && o.accel != "kvm" && o.accel != "tcg") {
    return UsageError("installer", Error::Input("--accel takes auto, kvm or tcg"), kInstallerHelp, io);
  }

  // One writer per state folder: a second installer (or an apply) on the
  // same folder is refused before it reads or writes anything.
  auto lock = StateLock::Acquire(o.state_dir);
  if (!lock) return ReportError("installer", lock.error(), io);

  sd_notify(0, "READY=1");
  installer::InstallSink sink;
  sink.phase = [&](const std::string& phase) {
    io.out << "== " << phase << "\n" << std::flush;
    sd_notifyf(0, "STATUS=%s", phase.c_str());
  };
  sink.status = [&](const std::string& status) {
    io.out << "   " << status << "\n" << std::flush;
    sd_notifyf(0, "STATUS=%s", status.c_str());
  };
  if (o.terminal) {
    // Interactive mode: used only when no answer file is found.
    sink.choose = [&](const std::vector<installer::ProfileMatch>& profiles,
                      const std::vector<std::string>& clusters) -> std::optional<installer::MenuChoice> {
      installer::MenuChoice choice;
      io.out << "\nNo answer file was found. Hardware profiles for this host:\n";
      for (size_t i = 0; i < profiles.size(); ++i) {
        const auto& m = profiles[i];
        io.out << "  " << i + 1 << ") " << m.profile->name
               << std::string(14 - std::min<size_t>(13, m.profile->name.size()), ' ')
               << (m.fits ? "fits" : "does not fit: " + Join(installer::Lacks(m), "; ")) << "\n";
      }
      std::string line;
      while (true) {
        io.out << "Choose a hardware profile [1-" << profiles.size() << ", q to quit]: " << std::flush;
        if (!std::getline(std::cin, line) || line == "q") return std::nullopt;
        size_t n = std::strtoul(line.c_str(), nullptr, 10);
        if (n >= 1 && n <= profiles.size()) {
          choice.profile = profiles[n - 1].profile->name;
          if (!profiles[n - 1].fits) io.out << "warning: this profile does not fit; preflight will stop the install\n";
          break;
        }
        io.out << "'" << line << "' is not a number from 1 to " << profiles.size() << "\n";
      }
      io.out << "Workload clusters:\n";
      for (size_t i = 0; i < clusters.size(); ++i) io.out << "  " << i + 1 << ") " << clusters[i] << "\n";
      while (true) {
        io.out << "Choose clusters (numbers separated by spaces; empty for none): " << std::flush;
        if (!std::getline(std::cin, line)) return std::nullopt;
        choice.clusters.clear();
        bool ok = true;
        for (const std::string& w : Split(std::string(Trim(line)), ' ')) {
          if (w.empty()) continue;
          size_t n = std::strtoul(w.c_str(), nullptr, 10);
          if (n < 1 || n > clusters.size())
            ok = false;
          else
            choice.clusters.push_back(clusters[n - 1]);
        }
        if (ok) break;
        io.out << "use numbers from 1 to " << clusters.size() << "\n";
      }
      return choice;
    };
    sink.confirm = [&](const std::string& summary) {
      io.out << "\n" << summary << "\nCreate these VMs? [y/N]: " << std::flush;
      std::string line;
      return std::getline(std::cin, line) && (line == "y" || line == "Y" || line == "yes");
    };
    sink.confirm_disk = [&](const std::string& listing, const std::string& disk) {
      io.out << "\n"
             << listing << "Type the disk's name (" << disk << ") to erase it; anything else stops: " << std::flush;
      std::string line;
      return std::getline(std::cin, line) && std::string(Trim(line)) == disk;
    };
  }
  // The report, on the console; with --bus, as soon as the run ends (a
  // converged host then keeps serving while its VMs run, with --stay).
  bool printed = false;
  auto print_report = [&](const installer::InstallOutcome& outcome) {
    if (printed) return;
    printed = true;
    const auto& r = outcome.report;
    io.out << "\n== Report (" << o.state_dir << "/report.json)\n"
           << "host:     " << r.value("host_name", std::string("?")) << " ("
           << r.value("matched_by", std::string("not matched")) << ")\n"
           << "firmware: " << FirmwareLine(r) << "\n"
           << BootLines(r) << "profile:  " << r.value("profile", std::string("-")) << "\n";
    for (const auto& p : r["phases"]) {
      io.out << "  " << (p.value("ok", false) ? "OK    " : "FAILED") << "  " << p["name"].get<std::string>() << "  "
             << p.value("seconds", 0.0) << " s\n";
    }
    if (r.contains("steps")) {
      io.out << "steps:    " << r["steps"]["created"] << " created, " << r["steps"]["kept"] << " kept\n";
    }
    if (r.contains("kept") && r["kept"].is_array()) {
      const char* label = "kept:     ";
      for (const auto& k : r["kept"]) {
        io.out << label << k.value("what", std::string("?")) << " " << k.value("path", std::string("?")) << ": "
               << k.value("text", std::string("?")) << "\n";
        label = "          ";
      }
    }
    if (r.contains("boots")) io.out << "boots:    " << r["boots"].size() << " since the install\n";
    io.out << "result:   " << r.value("result", std::string("?")) << "\n";
    if (r.contains("error")) io.err << "slipway-installer: error: " << r["error"].get<std::string>() << "\n";
    io.out << std::flush;
    std::string status = "Finished: " + r.value("result", std::string("?"));
    if (r.value("final_phase", std::string()) == "Running" && !r["boots"].empty()) {
      const auto& boot = r["boots"].back();
      status = "Running: " + std::to_string(boot.value("running", 0)) + " of " + std::to_string(boot.value("vms", 0)) +
               " VMs";
    }
    sd_notifyf(0, "STATUS=%s", status.c_str());
  };
  installer::InstallOutcome outcome;
  if (args->Has("bus")) {
    installer::ServiceOptions so;
    so.bus_address = args->Get("bus") == "system" ? "" : args->Get("bus");
    so.wait_for_start = args->Has("wait");
    so.linger_seconds = std::atoi(args->Get("linger", "0").c_str());
    so.stay_while_running = args->Has("stay");
    so.finished = print_report;
    auto served = installer::ServeInstaller(o, so, sink);
    if (!served) {
      sd_notify(0, "STOPPING=1");
      return ReportError("installer", served.error(), io);
    }
    outcome = std::move(*served);
  } else {
    outcome = installer::RunInstall(o, sink);
  }
  print_report(outcome);
  sd_notify(0, "STOPPING=1");
  // On a console the report must reach the screen before we exit: as the
  // session leader of the terminal (interactive mode), our exit hangs the
  // terminal up, which discards output the (slow, serial) line has not sent.
  io.out << std::flush;
  io.err << std::flush;
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    if (::isatty(fd)) ::tcdrain(fd);
  }
  return static_cast<int>(outcome.code);
}

}  // namespace slipway::cli
