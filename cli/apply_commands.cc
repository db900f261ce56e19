// slipway apply / destroy.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/host_context.h"
#include "common/json_text.h"
#include "common/state_lock.h"
#include "installer/apply/executor.h"
#include "installer/apply/plan_check.h"
#include "installer/plan/plan_ops.h"

namespace slipway::cli {

namespace {

constexpr const char* kDefaultUri = "test:///default";

constexpr const char* kApplyHelp =
    "usage: slipway apply PLAN.json [--connect URI] [--state DIR] [--storage-root DIR]\n"
    "                     [--images DIR] [--domain-type qemu|kvm|test] [--yes] [--json]\n\n"
    "Applies a plan through libvirt: pools and base volumes, then per cluster the\n"
    "network, VM volumes (qcow2 overlays), NoCloud seed ISOs (secrets filled in, mode\n"
    "0600), domains (defined, autostarted, started). Secrets are made on first use\n"
    "in --state/secrets (0600): tokens, keys, each cluster's CA, and its etcd CA\n"
    "with the etcd member and client certificates. Every step is journaled in\n"
    "--state before and after its libvirt call; a rerun after a crash does only\n"
    "what is missing. Objects that exist but differ are reported as drift and never\n"
    "replaced. VMs that an earlier plan created and this one drops are removed\n"
    "after confirmation (or --yes).\n\n"
    "  --connect URI       libvirt URI (default test:///default, libvirt's in-process\n"
    "                      test driver, whose state ends with the process; use\n"
    "                      qemu:///system in production, or a libvirtd's\n"
    "                      test+unix:///default?socket=PATH as make demo does)\n"
    "  --state DIR         journal, secrets, seeds, console logs (default /var/lib/slipway)\n"
    "  --storage-root DIR  prefix for CSV paths (demos and tests on fixture hosts)\n"
    "  --images DIR        <image>.qcow2 node images to upload as base volumes\n"
    "  --domain-type T     libvirt domain type: qemu, kvm or test (default: test on\n"
    "                      the test driver, else qemu, i.e. TCG). apply does not\n"
    "                      probe KVM; give kvm only where KVM guests boot\n"
    "                      (slipway-installer --accel auto probes)\n"
    "  --yes               confirm removals without asking\n"
    "  --json              stream one JSON event per step\n\n"
    "Exit codes: 0 applied, 1 libvirt failure or drift, 2 bad input or refused removal.\n";

constexpr const char* kDestroyHelp =
    "usage: slipway destroy (--cluster NAME | --all) [--connect URI] [--state DIR] [--storage-root DIR] [--json]\n\n"
    "Removes what Slipway created (as recorded in --state): a cluster's domains,\n"
    "volumes, seed ISOs and network, or with --all also base volumes and pools.\n"
    "Objects it did not create are left alone.\n\n"
    "  --connect URI  libvirt URI (default test:///default, as for apply: give the\n"
    "                 URI the plan was applied to)\n"
    "  --json         stream one JSON event per step, no summary\n\n"
    "Exit codes: 0 removed (or nothing to remove), 1 libvirt failure, 2 bad input.\n";

// libvirt needs absolute paths for pools and images.
std::string Absolute(const std::string& p) {
  return p.empty() ? p : std::filesystem::absolute(p).lexically_normal().string();
}

std::string Bar(size_t n, size_t total) {
  const size_t width = 30;
  size_t filled = total ? n * width / total : width;
  return "[" + std::string(filled, '=') + std::string(width - filled, ' ') + "]";
}

installer::EventSink Printer(Io io, bool json) {
  bool tty = ::isatty(STDOUT_FILENO) && !json;
  return [io, json, tty](const installer::StepEvent& e) {
    if (json) {
      io.out << DumpJson(nlohmann::json{{"event", "step"},
                                        {"n", e.n},
                                        {"total", e.total},
                                        {"action", e.action},
                                        {"kind", ToString(e.step.kind)},
                                        {"name", e.step.name},
                                        {"cluster", e.step.cluster},
                                        {"detail", e.detail}})
             << std::endl;
      return;
    }
    if (tty) io.out << "\r\033[K";
    std::string verb = e.action == "keep" ? "keep" : e.action == "remove" ? "remove" : "create";
    if (e.action == "create" && e.step.kind == installer::StepKind::kDomain) verb = "define";
    if (e.step.kind == installer::StepKind::kStart) verb = e.action == "keep" ? "running" : "start";
    io.out << "[" << e.n << "/" << e.total << "] " << verb << " "
           << (e.step.kind == installer::StepKind::kStart ? "domain" : ToString(e.step.kind)) << " "
           << (e.step.pool.empty() ? "" : e.step.pool + "/") << e.step.name
           << (e.detail.empty() ? "" : " (" + e.detail + ")") << "\n";
    if (tty && e.n < e.total) io.out << Bar(e.n, e.total) << " " << e.n << "/" << e.total << std::flush;
  };
}

}  // namespace

int RunApply(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"help"},
                                 {"connect", true},
                                 {"state", true},
                                 {"storage-root", true},
                                 {"images", true},
                                 {"domain-type", true},
                                 {"yes"},
                                 {"json"}});
  if (!args) return UsageError("apply", args.error(), kApplyHelp, io);
  if (args->Has("help")) {
    io.out << kApplyHelp;
    return 0;
  }
  if (args->positionals().size() != 1) return UsageError("apply", Error::Input("give one PLAN.json"), kApplyHelp, io);
  if (std::string t = args->Get("domain-type", ""); !t.empty() && t != "qemu" && t != "kvm" && t != "test") {
    return UsageError("apply", Error::Input("--domain-type takes qemu, kvm or test, not '" + t + "'"), kApplyHelp, io);
  }
  auto plan = installer::LoadPlan(args->positionals()[0]);
  if (!plan) return ReportError("apply", plan.error(), io);
  installer::ApplyOptions o;
  o.state_dir = args->Get("state", "/var/lib/slipway");
  o.storage_root = Absolute(args->Get("storage-root", ""));
  // Before the lock and the libvirt connection: a bad plan is exit 2 and touches nothing.
  if (auto st = installer::CheckPlan(*plan, args->positionals()[0], o.storage_root); !st) {
    return ReportError("apply", st.error(), io);
  }
  // Held until apply returns: one writer per state folder.
  auto lock = StateLock::Acquire(o.state_dir);
  if (!lock) return ReportError("apply", lock.error(), io);
  std::string uri = args->Get("connect", kDefaultUri);
  auto hv = installer::Hypervisor::Connect(uri);
  if (!hv) return ReportError("apply", hv.error(), io);
  o.images_dir = Absolute(args->Get("images", ""));
  o.domain_type = args->Get("domain-type", "");
  o.yes = args->Has("yes");
  if (::isatty(STDIN_FILENO)) {
    o.confirm = [io](const std::string& q) {
      io.out << q << " [y/N] " << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      return answer == "y" || answer == "Y" || answer == "yes";
    };
  }
  bool json = args->Has("json");
  auto announce = [&](const installer::ApplySummary& s) {
    if (json) {
      io.out << DumpJson(nlohmann::json{
                    {"event", "plan"}, {"create", s.to_create}, {"change", s.to_change}, {"destroy", s.to_destroy}})
             << std::endl;
    } else {
      io.out << "apply to " << uri << ": " << s.to_create << " to create, " << s.to_change << " to change, "
             << s.to_destroy << " to destroy\n";
    }
  };
  auto sum = installer::Apply(*plan, **hv, o, Printer(io, json), announce);
  if (!sum) return ReportError("apply", sum.error(), io);
  if (json) {
    io.out << DumpJson(nlohmann::json{{"event", "done"},
                                      {"created", sum->created},
                                      {"kept", sum->kept},
                                      {"destroyed", sum->destroyed},
                                      {"notes", sum->notes}})
           << std::endl;
  } else {
    for (const std::string& n : sum->notes) io.out << "note: " << n << "\n";
    io.out << "applied: " << sum->created << " created, " << sum->kept << " kept, " << sum->destroyed << " destroyed\n";
  }
  return 0;
}

int RunDestroy(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(
      argv,
      {{"help"}, {"connect", true}, {"state", true}, {"storage-root", true}, {"cluster", true}, {"all"}, {"json"}});
  if (!args) return UsageError("destroy", args.error(), kDestroyHelp, io);
  if (args->Has("help")) {
    io.out << kDestroyHelp;
    return 0;
  }
  if (args->Has("cluster") == args->Has("all")) {
    return UsageError("destroy", Error::Input("give --cluster NAME or --all"), kDestroyHelp, io);
  }
  installer::DestroyOptions o;
  o.state_dir = args->Get("state", "/var/lib/slipway");
  auto lock = StateLock::Acquire(o.state_dir);
  if (!lock) return ReportError("destroy", lock.error(), io);
  std::string uri = args->Get("connect", kDefaultUri);
  auto hv = installer::Hypervisor::Connect(uri);
  if (!hv) return ReportError("destroy", hv.error(), io);
  o.storage_root = Absolute(args->Get("storage-root", ""));
  o.cluster = args->Get("cluster", "");
  auto sum = installer::Destroy(**hv, o, Printer(io, args->Has("json")));
  if (!sum) return ReportError("destroy", sum.error(), io);
  if (!args->Has("json")) {
    for (const std::string& n : sum->notes) io.out << "note: " << n << "\n";
    io.out << "destroyed: " << sum->destroyed << " object(s)\n";
  }
  return 0;
}

}  // namespace slipway::cli
