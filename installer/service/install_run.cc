// First-boot installation.
#include "installer/service/install_run.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include "common/atomic_file.h"
#include "common/file_ops.h"
#include "common/gpt_disk.h"
#include "common/host_system.h"
#include "common/input_file.h"
#include "common/json_text.h"
#include "common/kubernetes.h"
#include "common/strings.h"
#include "installer/apply/executor.h"
#include "installer/apply/host_bridge.h"
#include "installer/apply/host_disk.h"
#include "installer/apply/secrets.h"
#include "installer/detect/arp_probe.h"
#include "installer/detect/boot_evidence.h"
#include "installer/detect/detect.h"
#include "installer/detect/kept_paths.h"
#include "installer/detect/kvm_probe.h"
#include "installer/detect/match.h"
#include "installer/plan/catalog.h"
#include "installer/plan/host_network_check.h"
#include "installer/plan/install_disk.h"
#include "installer/plan/plan_ops.h"
#include "installer/plan/planner.h"
#include "installer/service/answer.h"

namespace slipway::installer {

namespace {

// Connects to `uri`; a local libvirtd that is still starting (its first start
// probes QEMU for tens of seconds, more under TCG) is waited for, up to 10
// minutes, with the wait on the status line. Test-driver URIs need no daemon.
template <typename RunT>
Result<std::unique_ptr<Hypervisor>> ConnectWaiting(const std::string& uri, RunT& run) {
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    auto hv = Hypervisor::Connect(uri);
    auto waited = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    if (hv || uri.rfind("test:", 0) == 0 || waited >= 600 || run.Cancelled()) {
      if (hv && waited > 0) run.Status("libvirt at " + uri + " answered after " + std::to_string(waited) + " s");
      return hv;
    }
    if (waited % 10 == 0) run.Status("Waiting for libvirtd at " + uri + " (" + std::to_string(waited) + " s)");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// Waits up to o.ready_timeout_s for every Linux VM's first-boot agent to
// print its ready marker on the VM's serial log; returns VM -> seconds, or
// null for a VM that was not ready in time. Slow VMs are reported, not
// failed: under TCG a loaded host takes minutes.
template <typename RunT>
nlohmann::json WaitReady(const Plan& plan, const InstallOptions& o, RunT& run) {
  nlohmann::json ready = nlohmann::json::object();
  std::vector<const PlanVm*> waiting;
  for (const PlanVm& vm : plan.vms) {
    if (vm.os == "linux") waiting.push_back(&vm);
  }
  if (o.ready_timeout_s <= 0 || waiting.empty()) return ready;
  run.Status("Waiting up to " + std::to_string(o.ready_timeout_s) + " s for " + std::to_string(waiting.size()) +
             " VMs to report ready on their serial consoles");
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  while (!waiting.empty() && elapsed() < o.ready_timeout_s && !run.Cancelled()) {
    for (auto it = waiting.begin(); it != waiting.end();) {
      auto text = ReadFile(o.state_dir + "/console/" + (*it)->name + ".log");
      if (text && text->find("slipway-node-ready " + (*it)->name) != std::string::npos) {
        double s = std::round(elapsed() * 10) / 10;
        ready[(*it)->name] = s;
        char secs[32];
        std::snprintf(secs, sizeof secs, "%.1f s", s);
        run.Status("VM " + (*it)->name + " ready after " + secs);
        it = waiting.erase(it);
      } else {
        ++it;
      }
    }
    if (!waiting.empty()) std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  std::vector<std::string> late;
  for (const PlanVm* vm : waiting) {
    ready[vm->name] = nullptr;
    late.push_back(vm->name);
  }
  if (!late.empty()) {
    run.Status("Not ready after " + std::to_string(o.ready_timeout_s) + " s: " + Join(late, ", ") +
               " (serial logs in " + o.state_dir + "/console)");
  }
  return ready;
}

// A QEMU driver on this machine (not a remote host's).
bool IsLocalQemu(const std::string& uri) { return uri.rfind("qemu:///", 0) == 0 || uri.rfind("qemu+unix:///", 0) == 0; }

// The accelerator for a real driver: forced by o.accel, or probed when
// libvirt runs on this machine (a remote libvirt's host is not probed).
KvmProbeResult ChooseAccel(const InstallOptions& o, const std::string& uri) {
  KvmProbeResult r;
  if (o.accel == "kvm" || o.accel == "tcg") {
    r.accel = o.accel == "kvm" ? Accel::kKvm : Accel::kTcg;
    r.reason = "chosen with --accel " + o.accel + " (not probed)";
    return r;
  }
  if (!IsLocalQemu(uri)) {
    r.reason = "libvirt at " + uri + " is not on this machine, so KVM was not probed (--accel kvm opts in)";
    return r;
  }
  return ProbeKvm({});
}

constexpr const char* kNoAnswer =
    "no answer file: put one on the kernel command line (slipway.answer=PATH), at /slipway/answer.toml on the "
    "boot medium, on a file system labelled SLIPWAY, or pass --answer PATH";

struct Run {
  const InstallOptions& o;
  const InstallSink& sink;
  nlohmann::json report;
  std::chrono::steady_clock::time_point phase_start;

  bool Cancelled() const { return sink.cancelled && sink.cancelled(); }
  void Phase(const std::string& name) {
    Close(true);
    phase_start = std::chrono::steady_clock::now();
    report["phases"].push_back({{"name", name}, {"ok", false}});
    if (sink.phase) sink.phase(name);
  }
  void Close(bool ok) {
    if (report["phases"].empty()) return;
    auto& last = report["phases"].back();
    if (last.contains("seconds")) return;
    last["ok"] = ok;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - phase_start).count();
    last["seconds"] = std::round(s * 100) / 100;
  }
  void Status(const std::string& s) {
    if (sink.status) sink.status(s);
  }

  InstallOutcome Fail(const Error& e) {
    Close(false);
    report["result"] = "failed";
    report["error"] = e.ToString();
    return Finish(e.code());
  }
  InstallOutcome Finish(ExitCode code) {
    if (!report.contains("result")) report["result"] = "ok";
    auto failed = [&](const Error& e) {
      report["result"] = "failed";
      report["error"] = e.ToString();
      code = ExitCode::kRuntime;
    };
    std::error_code ec;
    std::filesystem::create_directories(o.state_dir, ec);
    // Only a finished install writes STATE/installed: the unit's condition.
    // A failed run leaves it out, so a restart or a reboot tries again.
    std::string marker = o.state_dir + "/installed";
    if (code == ExitCode::kOk) {
      std::string who = report.value("host_name", std::string("this host"));
      if (auto m = WriteFileAtomic(marker, who + " installed; see report.json\n", 0644); !m) failed(m.error());
    }
    report["exit_code"] = static_cast<int>(code);
    auto st = WriteFileAtomic(o.state_dir + "/report.json", DumpJson(report, 2) + "\n", 0644);
    if (!st && code == ExitCode::kOk) {
      failed(st.error());
      std::filesystem::remove(marker, ec);
    }
    return {report, code};
  }
};

// The uplink NIC for bridge mode: the answer file's (a name, or a MAC of a
// detected NIC); else the NIC whose MAC matched the host; else the first
// physical NIC with link.
Result<std::string> ResolveUplink(const FleetHost& h, const HardwareReport& hw, const std::string& matched_by) {
  const std::string& want = h.network.uplink;
  std::string why;
  if (!want.empty() && !ParseMac(want, &why)) return want;
  std::string mac = !want.empty()                      ? FormatMac(*ParseMac(want, &why))
                    : matched_by.rfind("MAC ", 0) == 0 ? matched_by.substr(4)
                                                       : "";
  for (const Nic& n : hw.nics) {
    if (!mac.empty() && n.mac.value_or("") == mac) return n.name;
  }
  if (!want.empty()) return Error::Input("no NIC of this host has the uplink MAC " + want + " from the answer file");
  for (const Nic& n : hw.nics) {
    if (n.physical && n.link.value_or(false)) return n.name;
  }
  return Error::Input(
      "bridge mode needs an uplink NIC, and no physical NIC has link; name one with [host.network] "
      "uplink = \"NAME\" in the answer file");
}

// Every IPv4 address of this host ("ip -j -4 addr show"), with its prefix.
std::vector<std::pair<Ipv4, int>> HostAddressesNow(const IpRunner& ip) {
  std::vector<std::pair<Ipv4, int>> out;
  auto r = ip({"-j", "-4", "addr", "show"});
  if (!r) return out;
  try {
    for (const auto& link : nlohmann::json::parse(*r)) {
      for (const auto& a : link.value("addr_info", nlohmann::json::array())) {
        std::string why;
        std::string text = a.value("local", "") + "/" + std::to_string(a.value("prefixlen", 32));
        if (a.value("scope", "") == "host") continue;  // loopback
        if (auto p = ParseIfaceAddress(text, &why)) out.push_back(*p);
      }
    }
  } catch (const nlohmann::json::exception&) {
  }
  return out;
}

std::vector<std::pair<Ipv4, int>> ParseCidrs(const std::vector<std::string>& cidrs) {
  std::vector<std::pair<Ipv4, int>> out;
  for (const std::string& c : cidrs) {
    std::string why;
    if (auto p = ParseIfaceAddress(c, &why)) out.push_back(*p);
  }
  return out;
}

// The VLAN sub-bridges of the plan's bridge-mode networks on `bridge`, one
// status line each; returns the sub-bridges' names.
template <typename RunT>
Result<std::vector<std::string>> EnsurePlanVlans(const Plan& plan, const std::string& bridge, const IpRunner& ip,
                                                 RunT& run) {
  std::set<int> vlans;
  for (const PlanNetwork& n : plan.networks) {
    if (n.mode == NetworkMode::kBridge && n.vlan > 0) vlans.insert(n.vlan);
  }
  std::vector<std::string> made;
  for (int vlan : vlans) {
    auto v = EnsureVlanBridge(bridge, vlan, ip);
    if (!v) return std::move(v).error();
    made.push_back(VlanBridgeName(bridge, vlan));
    run.Status("VLAN " + std::to_string(vlan) + ": " + VlanBridgeName(bridge, vlan) + " over the tagged port " +
               VlanPortName(bridge, vlan) + (*v ? "" : " (already there)"));
  }
  return made;
}

// The host's network, before any VM needs it. NAT networks must not take a
// subnet the host is on. In bridge mode, the plan's addresses are checked
// against the uplink's subnet, ARP-probed with --probe, and the host bridge
// is made (the host's address moved onto it, or configured from the answer
// file). Nothing is changed when a check fails.
Status PrepareHostNetwork(const Plan& plan, const FleetHost& host, const HardwareReport& hw,
                          const std::string& matched_by, bool check_nat, Hypervisor& hv, Run& run) {
  std::set<std::string> bridges;
  for (const PlanNetwork& n : plan.networks) {
    if (n.mode == NetworkMode::kBridge) bridges.insert(n.bridge);
  }
  IpRunner ip = SystemIp();
  HostNetworkView view;
  auto fail = [](const std::vector<std::string>& problems) {
    return Error::Input("the plan does not fit this host's network:\n  " + Join(problems, "\n  "));
  };
  if (bridges.empty()) {
    if (!check_nat) return Ok();
    view.addresses = HostAddressesNow(ip);
    if (auto problems = CheckPlanAgainstHost(plan, view); !problems.empty()) return fail(problems);
    return Ok();
  }
  if (bridges.size() > 1) {
    return Error::Input("bridge mode: this host has one host bridge, but the plan names " +
                        Join(std::vector<std::string>(bridges.begin(), bridges.end()), " and ") +
                        "; give the clusters the same [network] bridge");
  }
  const std::string bridge = *bridges.begin();
  auto uplink = ResolveUplink(host, hw, matched_by);
  if (!uplink) return std::move(uplink).error();
  auto now = ReadHostAddresses(*uplink, bridge, ip);
  if (!now) return std::move(now).error();
  view.addresses = HostAddressesNow(ip);
  view.uplink = ParseCidrs(now->cidrs);
  std::string address =
      host.network.address ? host.network.address->first.ToString() + "/" + std::to_string(host.network.address->second)
                           : "";
  if (view.uplink.empty() && host.network.address) view.uplink.push_back(*host.network.address);
  std::string gateway = !now->gateway.empty()  ? now->gateway
                        : host.network.gateway ? host.network.gateway->ToString()
                                               : "";
  std::string why;
  if (!gateway.empty()) view.gateway = ParseIpv4(gateway, &why);
  if (auto problems = CheckPlanAgainstHost(plan, view); !problems.empty()) return fail(problems);
  nlohmann::json report = {{"mode", "bridge"}, {"bridge", bridge}, {"uplink", *uplink}};

  if (run.o.probe) {
    // Addresses of VMs that exist already (a rerun) answer for themselves.
    std::set<std::string> existing_clusters;
    for (const PlanVm& vm : plan.vms) {
      if (hv.Domain(vm.name).exists) existing_clusters.insert(vm.cluster);
    }
    std::vector<Ipv4> targets;
    std::map<uint32_t, std::string> holders;
    for (const auto& [a, holder] : BridgeAddresses(plan)) {
      bool ours = false;
      for (const PlanVm& vm : plan.vms) {
        if (existing_clusters.count(vm.cluster) && (holder == vm.name || holder == "API VIP of " + vm.cluster)) {
          ours = true;
        }
      }
      if (ours) continue;
      targets.push_back(a);
      holders[a.value] = holder;
    }
    run.Status("Probing " + std::to_string(targets.size()) + " planned addresses on " + now->carrier +
               " (ARP, as arping -D)");
    auto answers = ArpProbe(now->carrier, targets, {});
    if (!answers) return std::move(answers).error();
    nlohmann::json probe = {{"probed", targets.size()}, {"in_use", nlohmann::json::array()}};
    std::vector<std::string> used;
    for (const ArpAnswer& a : *answers) {
      used.push_back(a.ip.ToString() + " (" + holders[a.ip.value] + ") answered from " + a.mac);
      probe["in_use"].push_back({{"ip", a.ip.ToString()}, {"mac", a.mac}, {"planned_for", holders[a.ip.value]}});
    }
    report["probe"] = probe;
    run.report["host_network"] = report;
    if (!used.empty()) {
      return Error::Input("addresses of the plan are already in use on the network (ARP probe on " + now->carrier +
                          "):\n  " + Join(used, "\n  ") +
                          "\nnothing was changed; move the clusters' node_ip_pool or VIPs off them");
    }
  }
  auto made = EnsureHostBridge(*uplink, bridge, ip, {address, host.network.gateway ? gateway : ""});
  if (!made) {
    run.report["host_network"] = report;
    return std::move(made).error();
  }
  auto vlans = EnsurePlanVlans(plan, bridge, ip, run);
  if (!vlans) {
    run.report["host_network"] = report;
    return std::move(vlans).error();
  }
  for (const std::string& v : *vlans) report["vlans"].push_back(v);
  report["addresses"] = made->addresses;
  report["gateway"] = made->gateway;
  report["changed"] = made->changed;
  report["done"] = made->done;
  run.report["host_network"] = report;
  run.Status("Host bridge " + bridge + " on " + *uplink + ": carries " + Join(made->addresses, ", ") +
             (made->gateway.empty() ? "" : ", default via " + made->gateway) +
             (made->changed ? "" : " (already in place)"));
  return Ok();
}

// The part of a plan that the management cluster needs.
Plan ManagementOnly(const Plan& full) {
  Plan p = full;
  p.clusters.clear();
  p.vms.clear();
  p.networks.clear();
  std::set<std::string> pools, bases;
  for (const PlanCluster& c : full.clusters) {
    if (c.kind == "management") p.clusters.push_back(c);
  }
  for (const PlanVm& vm : full.vms) {
    if (vm.cluster != "mgmt") continue;
    p.vms.push_back(vm);
    for (const PlanDisk& d : vm.disks) {
      pools.insert(d.pool_id);
      if (!d.base_id.empty()) bases.insert(d.base_id);
    }
  }
  for (const PlanNetwork& n : full.networks) {
    if (n.cluster == "mgmt") p.networks.push_back(n);
  }
  p.pools.clear();
  for (const PlanPool& pool : full.pools) {
    if (pools.count(pool.id)) p.pools.push_back(pool);
  }
  p.base_volumes.clear();
  for (const PlanBaseVolume& b : full.base_volumes) {
    if (bases.count(b.id)) p.base_volumes.push_back(b);
  }
  return p;
}

// What libvirt runs now, per planned VM, as the console and the report show it.
template <typename RunT>
nlohmann::json DomainStates(const Plan& plan, Hypervisor& hv, RunT& run) {
  nlohmann::json domains = nlohmann::json::array();
  for (const PlanVm& vm : plan.vms) {
    ObjectState d = hv.Domain(vm.name);
    std::string state = !d.exists ? "missing" : d.active ? "running" : "shut off";
    domains.push_back({{"name", vm.name}, {"cluster", vm.cluster}, {"state", state}});
    run.Status("Domain " + vm.name + ": " + state);
  }
  return domains;
}

// The install disk, when a rule names one (the host's entry, [defaults] or
// the hardware profile): chosen by the guard, shown with its reason, and in
// interactive mode confirmed by typing its name. A refusal stops the install
// before anything is created. The disk is written in phase HostDisk. An
// earlier install of this host that began to write a disk and did not
// finish (STATE/host-disk.json) is said first; that disk is written again.
template <typename RunT>
Status CheckInstallDisk(const HardwareReport& hw, const FleetHost& host, const HardwareProfile& profile,
                        const Sysroot& sysroot, bool interactive, RunT& run, InstallDiskChoice* chosen) {
  auto rule = EffectiveInstallDiskRule(&host, &profile);
  if (!rule) {
    run.report["install_disk"] = {{"mode", "live"}};
    run.Status("Install disk: none (live install; no [install_disk] rule); installer state stays on the first CSV");
    return Ok();
  }
  auto earlier = ReadHostDiskRecord(run.o.state_dir);
  if (!earlier) return earlier.error();
  std::string rewrite;
  nlohmann::json earlier_json;
  if (*earlier) {
    const HostDiskRecord& r = **earlier;
    // The same disk: its name, and the size of the device that was written.
    const Disk* same = nullptr;
    for (const Disk& d : hw.disks) {
      auto bytes = DeviceBytes(sysroot.Path("/dev/" + d.name));
      if (d.name == r.disk && bytes && *bytes == r.disk_bytes) same = &d;
    }
    if (same) rewrite = r.disk;
    earlier_json = {{"disk", r.disk}, {"state", r.state}, {"step", r.step}, {"attempt", r.attempt}};
    run.Status(
        "An earlier install failed " +
        (r.state == "writing" ? "while writing the host system to " + r.disk + " (step " + r.step + ")"
                              : "after writing the host system to " + r.disk) +
        ", attempt " + std::to_string(r.attempt) + ": " +
        (same ? "this install writes it again" : "that disk is not here with the same size, so it is chosen afresh"));
  }
  auto choice = ChooseInstallDisk(hw, *rule, rewrite);
  run.report["install_disk"] = InstallDiskJson(choice);
  run.report["install_disk"]["mode"] = "disk";
  if (!earlier_json.is_null()) run.report["install_disk"]["earlier_failed"] = earlier_json;
  if (!choice.ok()) {
    run.Status("Install disk: refused: " + choice.refusal);
    return InstallDiskRefusal(hw, choice);
  }
  run.Status("Install disk: " + choice.disk + ": " + choice.reason);
  if (!choice.erases.empty()) run.Status("Install disk " + choice.disk + " will be erased: " + choice.erases);
  if (interactive && run.sink.confirm_disk) {
    std::string listing = "The host system goes to " + choice.disk + " (" + choice.reason +
                          ").\nIt erases: " + (choice.erases.empty() ? "nothing (the disk is empty)" : choice.erases) +
                          "\nDisks on this host:\n" + DiskListing(hw, choice, "  ");
    if (!run.sink.confirm_disk(listing, choice.disk)) {
      return Error::Runtime("the install disk " + choice.disk + " was not confirmed; nothing was written");
    }
  }
  run.report["install_disk"]["written"] = false;
  *chosen = choice;
  return Ok();
}

// Phase HostDisk: the host system from the boot medium to the chosen disk
// (installer/apply/host_disk.h), or nothing for a live install.
template <typename RunT>
Status WriteInstallDisk(const InstallDiskChoice& choice, const Sysroot& sysroot, RunT& run) {
  if (choice.disk.empty()) {
    run.Status("Host disk: none (live install): the host boots the ISO, with its state on the first CSV");
    return Ok();
  }
  std::string dir = FindHostSystemDir(sysroot, run.o.host_system_dir);
  if (dir.empty()) {
    return Error::Input("the boot medium has no host system (" + std::string(kHostSystemDir) + "/" +
                        kHostSystemManifest +
                        "): build the ISO from a definition with [iso] host_system = true, or remove the "
                        "[install_disk] rule for a live install");
  }
  auto manifest = ReadHostSystemManifest(dir);
  if (!manifest) return manifest.error();
  std::string device = sysroot.Path("/dev/" + choice.disk);
  auto bytes = DeviceBytes(device);
  if (!bytes) return bytes.error();
  auto layout = PlanHostDiskLayout(choice.disk, *bytes, manifest->esp.bytes, manifest->system.bytes);
  if (!layout) return layout.error();
  auto earlier = ReadHostDiskRecord(run.o.state_dir);
  if (!earlier) return earlier.error();
  HostDiskJob job;
  job.disk = choice.disk;
  job.device = device;
  job.host_system_dir = dir;
  job.manifest = *manifest;
  job.layout = *layout;
  job.seed = run.report.value("host_id", std::string("host")) + ":" + choice.disk;
  job.state_dir = run.o.state_dir;
  job.attempt = *earlier ? (*earlier)->attempt + 1 : 1;
  HostDiskHooks hooks;
  hooks.status = [&](const std::string& line) { run.Status(line); };
  auto t0 = std::chrono::steady_clock::now();
  if (auto st = WriteHostDisk(job, FileOps::Real(), hooks); !st) return st;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json parts = nlohmann::json::array();
  for (const HostDiskPartition& p : layout->parts) {
    parts.push_back({{"name", p.name}, {"start_sector", p.start}, {"bytes", p.Bytes()}});
  }
  run.report["install_disk"]["written"] = true;
  run.report["install_disk"]["device"] = device;
  run.report["install_disk"]["seconds"] = std::round(seconds * 10) / 10;
  run.report["install_disk"]["attempt"] = job.attempt;
  run.report["install_disk"]["partitions"] = parts;
  run.Status("Host disk " + choice.disk + ": written in " + std::to_string(static_cast<int>(std::lround(seconds))) +
             " s" + "; the host boots from it next (detach the ISO or put the disk first in the boot order)");
  return Ok();
}

// report.json's "kept": where each persistent path really lives this boot.
nlohmann::json KeptJson(const Sysroot& s, const std::vector<Csv>& csvs) {
  nlohmann::json out = nlohmann::json::array();
  for (const KeptPath& k : WhereKept(s, csvs)) {
    const char* on = k.on == KeptOn::kCsv      ? "csv"
                     : k.on == KeptOn::kDevice ? "device"
                     : k.on == KeptOn::kRam    ? "ram"
                                               : "unknown";
    out.push_back({{"what", k.what},
                   {"path", k.path},
                   {"on", on},
                   {"csv", k.csv},
                   {"source", k.source},
                   {"fs_type", k.fs_type},
                   {"folder", k.folder},
                   {"survives_reboot", k.SurvivesReboot()},
                   {"text", k.Describe()}});
  }
  return out;
}

}  // namespace

const std::vector<std::string>& InstallPhases() {
  static const std::vector<std::string> kPhases = {"Discover",          "Preflight",        "ChooseProfile", "Plan",
                                                   "ManagementCluster", "WorkloadClusters", "HostDisk",      "Report"};
  return kPhases;
}

InstallOutcome RunInstall(const InstallOptions& o, const InstallSink& sink) {
  if (std::filesystem::exists(o.state_dir + "/installed")) return RunConverge(o, sink);
  Run run{o, sink, {{"schema", "slipway.install-report/v1"}, {"phases", nlohmann::json::array()}}, {}};
  // Discover: the hardware, then the answer file and this host's entry in it.
  run.Phase("Discover");
  Sysroot sysroot(o.sysroot);
  std::unique_ptr<FsUsageSource> usage = std::make_unique<StatvfsUsage>();
  if (!o.fs_usage.empty()) {
    auto rec = RecordedFsUsage::Load(o.fs_usage);
    if (!rec) return run.Fail(rec.error());
    usage = std::move(*rec);
  }
  auto hw = Detect(sysroot, *usage, {});
  if (!hw) return run.Fail(hw.error());
  run.report["host_id"] = HostId(*hw, "unknown");
  run.report["host"] = {{"firmware", hw->firmware.boot_mode},
                        {"secure_boot", hw->firmware.secure_boot},
                        {"tpm", hw->firmware.tpm_present ? hw->firmware.tpm_version.value_or("unknown") : "none"},
                        {"macs", hw->Macs()},
                        {"serial", hw->smbios.serial.value_or("")},
                        {"uuid", hw->smbios.uuid.value_or("")}};
  {
    // What booted: not all of it is verified under Secure Boot (the
    // initramfs, grub.cfg and the command line are not), so the report
    // carries the measurements for an operator to compare with the build.
    BootEvidence boot = ReadBootEvidence(sysroot);
    run.report["boot"] = {{"cmdline", boot.cmdline}, {"sha256", boot.files}, {"pcr_sha256", boot.pcrs}};
    if (!boot.pcr_note.empty()) run.report["boot"]["pcr_note"] = boot.pcr_note;
  }
  run.report["kept"] = KeptJson(sysroot, hw->csvs);
  {
    std::vector<std::string> data, csvs;
    for (const Disk* d : hw->DataDisks()) data.push_back(d->name);
    for (const Csv& c : hw->csvs) csvs.push_back(c.path);
    run.Status("Discovered " + std::to_string(data.size()) + " data disk(s)" +
               (data.empty() ? "" : " (" + Join(data, ", ") + ")") + " of " + std::to_string(hw->disks.size()) + ", " +
               std::to_string(hw->Macs().size()) + " NIC(s) (" + Join(hw->Macs(), ", ") + "), " +
               std::to_string(hw->csvs.size()) + " CSV(s)" + (csvs.empty() ? "" : " (" + Join(csvs, ", ") + ")"));
  }
  std::string data = o.data_dir;
  Diagnostics cat_diags;
  Catalog catalog = LoadProfileTree(data + "/profiles", data + "/firmware/firmware.toml", &cat_diags);
  CrossCheckCatalog(catalog, &cat_diags);
  if (cat_diags.HasErrors()) return run.Fail(Error::Input("the bundled profiles in " + data + " are not valid"));
  auto answer = FindAnswerFile(sysroot, o.answer);
  if (!answer) return run.Fail(answer.error());
  FleetHost host;
  bool interactive = false;
  if (answer->origin.empty()) {
    if (!o.terminal || !sink.choose) return run.Fail(Error::Input(kNoAnswer));
    // Interactive: a person picks the hardware profile and the clusters.
    auto choice = sink.choose(MatchProfiles(*hw, catalog.hardware), catalog.ClusterNames());
    if (!choice) return run.Fail(Error::Runtime("stopped in the profile menu; nothing was changed"));
    interactive = true;
    host.name = "interactive";
    host.hardware_profile = choice->profile;
    host.clusters = choice->clusters;
    run.report["answer_file"] = "interactive menu";
    run.report["host_name"] = host.name;
    run.report["matched_by"] = "interactive menu";
    run.Status("Chosen in the menu: profile " + host.hardware_profile + ", clusters " + Join(host.clusters, ", "));
  } else {
    run.report["answer_file"] = answer->origin;
    Diagnostics diags;
    std::optional<toml::table> table;
    // Answers found on a medium are read whole; the cap applies to them too.
    if (answer->text.size() > kMaxTomlBytes) {
      diags.Error({answer->path, 0, 0}, "is " + std::to_string(answer->text.size()) +
                                            " bytes; answer files are capped at " + FormatBytes(kMaxTomlBytes));
    } else {
      table = ParseTomlText(answer->text, answer->path, &diags);
    }
    std::optional<Fleet> fleet;
    if (table) fleet = ReadFleet(*table, answer->path, &diags);
    if (!fleet) {
      std::string msg = "the answer file is not valid:";
      for (const Diagnostic& d : diags.items()) msg += "\n  " + FormatDiagnostic(d);
      return run.Fail(Error::Input(msg));
    }
    auto matched = MatchHost(*fleet, *hw);
    if (!matched) return run.Fail(matched.error());
    host = matched->host;
    run.report["host_name"] = host.name;
    run.report["matched_by"] = matched->matched_by;
    run.Status("Matched host " + host.name + " by " + matched->matched_by);
  }

  // Preflight against the host's hardware profile.
  if (run.Cancelled()) return run.Fail(Error::Runtime("cancelled before phase Preflight"));
  run.Phase("Preflight");
  const HardwareProfile* profile =
      catalog.FindHardware(o.profile_override.empty() ? host.hardware_profile : o.profile_override);
  if (!profile) {
    return run.Fail(Error::Input("unknown hardware profile '" +
                                 (o.profile_override.empty() ? host.hardware_profile : o.profile_override) + "'"));
  }
  run.report["profile"] = profile->name;
  auto rules = EvaluateRules(*hw, *profile, o.skip_checks);
  nlohmann::json checks = nlohmann::json::array();
  std::vector<std::string> failed;
  for (const RuleResult& r : rules) {
    checks.push_back({{"check", r.name},
                      {"state", std::string(StateName(r.state))},
                      {"host", r.measured},
                      {"threshold", r.threshold},
                      {"detail", r.detail}});
    if (r.state == CheckState::kFail) failed.push_back(r.detail);
  }
  run.report["preflight"] = checks;
  run.Status("Preflight: " + std::to_string(rules.size() - failed.size()) + " of " + std::to_string(rules.size()) +
             " checks passed or skipped");
  if (!failed.empty()) return run.Fail(Error::HostUnsuitable("preflight failed: " + Join(failed, "; ")));
  InstallDiskChoice install_disk;
  if (auto st = CheckInstallDisk(*hw, host, *profile, sysroot, interactive, run, &install_disk); !st)
    return run.Fail(st.error());

  if (run.Cancelled()) return run.Fail(Error::Runtime("cancelled before phase ChooseProfile"));
  run.Phase("ChooseProfile");
  run.Status("Hardware profile " + profile->name +
             (interactive                  ? " (chosen in the menu)"
              : o.profile_override.empty() ? " (from the answer file)"
                                           : " (chosen through D-Bus Start)"));

  // Plan.
  if (run.Cancelled()) return run.Fail(Error::Runtime("cancelled before phase Plan"));
  run.Phase("Plan");
  auto mgmt = MgmtNetwork(host);
  if (!mgmt) return run.Fail(mgmt.error());
  PlanInputs in;
  in.hosts = {{*hw, "sysroot " + o.sysroot, ""}};
  in.profile = profile;
  for (const std::string& c : host.clusters) {
    const ClusterProfile* cp = catalog.FindCluster(c);
    if (!cp) return run.Fail(Error::Input("unknown cluster '" + c + "' in the answer file"));
    in.clusters.push_back(cp);
  }
  in.sizes = &*catalog.sizes;
  in.firmware = &*catalog.firmware;
  in.management = *mgmt;
  // The node images' Kubernetes bundle decides the clusters' version; the
  // report says in one line when there is none.
  ImagesDir images = FindImagesDir(sysroot, *hw, o.images_dir, o.storage_root);
  auto k8s = ImageKubernetesVersion(images.path.empty() ? "" : images.path + "/linux-node.manifest.json");
  if (!k8s) return run.Fail(k8s.error());
  in.kubernetes_bundle_version = *k8s;
  run.report["kubernetes"] = k8s->empty() ? nlohmann::json{{"bundle", false}, {"note", kNoKubernetesBundle}}
                                          : nlohmann::json{{"bundle", true}, {"version", *k8s}};
  run.Status(k8s->empty() ? std::string(kNoKubernetesBundle) : "Kubernetes " + *k8s + " from the node images' bundle");
  auto plan = MakePlan(in);
  if (!plan) return run.Fail(plan.error());
  std::error_code ec;
  std::filesystem::create_directories(o.state_dir, ec);
  if (auto st = WriteFileAtomic(o.state_dir + "/plan.json", DumpJson(nlohmann::json(*plan), 1) + "\n", 0644); !st) {
    return run.Fail(st.error());
  }
  nlohmann::json per_cluster = nlohmann::json::object();
  for (const PlanCluster& c : plan->clusters) per_cluster[c.name] = c.vms.size();
  run.report["plan"] = {{"vms", plan->vms.size()}, {"clusters", per_cluster}, {"csvs", plan->csvs.size()}};
  run.Status("Planned " + std::to_string(plan->vms.size()) + " VMs in " + std::to_string(plan->clusters.size()) +
             " clusters");

  if (interactive && sink.confirm) {
    std::string summary = "The plan creates " + std::to_string(plan->vms.size()) + " VMs on " +
                          std::to_string(plan->csvs.size()) + " CSV(s):";
    for (const PlanCluster& c : plan->clusters) {
      summary += "\n  " + c.name + " (" + c.kind + "): " + std::to_string(c.vms.size()) + " VMs, API VIP " + c.api_vip;
    }
    if (!sink.confirm(summary)) return run.Fail(Error::Runtime("not confirmed; nothing was created"));
  }
  // Apply: the management cluster first, then everything.
  std::string uri = !o.connect.empty() ? o.connect : !host.libvirt_uri.empty() ? host.libvirt_uri : "qemu:///system";
  run.report["libvirt_uri"] = uri;
  auto hv = ConnectWaiting(uri, run);
  if (!hv) return run.Fail(hv.error());
  // KVM or TCG: a probe guest decides on a local QEMU driver.
  std::string domain_type = "test";
  if ((*hv)->DriverType() != "test") {
    KvmProbeResult accel = ChooseAccel(o, uri);
    domain_type = accel.accel == Accel::kKvm ? "kvm" : "qemu";
    run.report["accel"] = {{"accel", AccelName(accel.accel)}, {"reason", accel.reason}};
    if (accel.seconds > 0) run.report["accel"]["probe_seconds"] = std::round(accel.seconds * 10) / 10;
    run.Status(std::string("Accelerator: ") + (accel.accel == Accel::kKvm ? "KVM" : "TCG (emulation)") + ": " +
               accel.reason);
  }
  run.report["domain_type"] = domain_type;
  auto secrets = SecretStore::Open(o.state_dir + "/secrets");
  if (!secrets) return run.Fail(secrets.error());
  if (auto st = secrets->Put("ssh-authorized-keys", Join(host.ssh_authorized_keys, "\n")); !st)
    return run.Fail(st.error());
  ApplyOptions ao;
  ao.state_dir = o.state_dir;
  ao.storage_root = o.storage_root;
  run.report["images"] = images.origin;
  run.Status("Node images: " + images.origin);
  ao.images_dir = images.path;
  ao.domain_type = domain_type;
  ao.additive = true;  // unattended: never removes anything; the first phase applies a partial plan
  nlohmann::json steps = {{"created", 0}, {"kept", 0}, {"destroyed", 0}};
  auto apply = [&](const Plan& p, const std::string& label) -> Status {
    size_t vms_done = 0, vms_total = 0;
    for (const PlanVm& vm : p.vms) vms_total += label == "management cluster" || vm.cluster != "mgmt";
    auto sum = Apply(
        p, **hv, ao,
        [&](const StepEvent& e) {
          if (e.step.kind == StepKind::kStart && (label == "management cluster" || e.step.cluster != "mgmt")) {
            ++vms_done;
            run.Status("Creating " + label + ": " + std::to_string(vms_done) + "/" + std::to_string(vms_total) +
                       " VMs");
          }
        },
        nullptr);
    if (!sum) return std::move(sum).error();
    steps["created"] = steps["created"].get<size_t>() + sum->created;
    steps["kept"] = steps["kept"].get<size_t>() + sum->kept;
    return Ok();
  };
  if (run.Cancelled()) return run.Fail(Error::Runtime("cancelled before phase ManagementCluster"));
  run.Phase("ManagementCluster");
  if (auto st = PrepareHostNetwork(*plan, host, *hw, run.report.value("matched_by", std::string()),
                                   domain_type != "test" && IsLocalQemu(uri), **hv, run);
      !st)
    return run.Fail(st.error());
  if (auto st = apply(ManagementOnly(*plan), "management cluster"); !st) return run.Fail(st.error());
  if (run.Cancelled()) return run.Fail(Error::Runtime("cancelled before phase WorkloadClusters"));
  run.Phase("WorkloadClusters");
  std::vector<std::string> names;
  for (const PlanCluster& c : plan->clusters) {
    if (c.kind == "workload") names.push_back(c.name);
  }
  if (auto st = apply(*plan, "workload clusters " + Join(names, ", ")); !st) return run.Fail(st.error());
  run.report["steps"] = steps;
  // What libvirt runs now, as the console and the report show it.
  run.report["domains"] = DomainStates(*plan, **hv, run);
  if ((*hv)->DriverType() != "test") run.report["ready"] = WaitReady(*plan, o, run);
  // The host system last: the disk becomes bootable only when everything
  // before it succeeded, and STATE/installed follows it.
  if (run.Cancelled()) return run.Fail(Error::Runtime("cancelled before phase HostDisk"));
  run.Phase("HostDisk");
  if (auto st = WriteInstallDisk(install_disk, sysroot, run); !st) return run.Fail(st.error());
  run.Phase("Report");
  run.Close(true);
  return run.Finish(ExitCode::kOk);
}

InstallOutcome RunConverge(const InstallOptions& o, const InstallSink& sink) {
  auto boot_start = std::chrono::steady_clock::now();
  // The install's report stays; this boot is appended to its "boots".
  nlohmann::json saved = nlohmann::json::object();
  if (auto text = ReadFile(o.state_dir + "/report.json")) {
    saved = nlohmann::json::parse(*text, nullptr, false);
    if (!saved.is_object()) saved = nlohmann::json::object();
  }
  Run run{o, sink, {{"phases", nlohmann::json::array()}}, {}};
  auto finish = [&](ExitCode code, const std::string& error) {
    run.Close(code == ExitCode::kOk);
    nlohmann::json boot = run.report;
    boot["result"] = code == ExitCode::kOk ? "ok" : "failed";
    if (!error.empty()) boot["error"] = error;
    boot["seconds"] =
        std::round(std::chrono::duration<double>(std::chrono::steady_clock::now() - boot_start).count() * 100) / 100;
    if (!saved.contains("boots") || !saved["boots"].is_array()) saved["boots"] = nlohmann::json::array();
    saved["boots"].push_back(boot);
    if (boot.contains("domains")) saved["domains"] = boot["domains"];
    saved["final_phase"] = code == ExitCode::kOk ? "Running" : "Failed";
    if (auto st = WriteFileAtomic(o.state_dir + "/report.json", DumpJson(saved, 2) + "\n", 0644); !st) {
      if (code == ExitCode::kOk) code = ExitCode::kRuntime;
      saved["final_phase"] = "Failed";
      saved["boots"].back()["error"] = st.error().ToString();
    }
    InstallOutcome out{saved, code};
    out.report["result"] = boot["result"];
    if (!error.empty()) out.report["error"] = error;
    out.report["phases"] = boot["phases"];
    if (boot.contains("steps")) out.report["steps"] = boot["steps"];
    if (boot.contains("kept")) out.report["kept"] = boot["kept"];
    out.report["exit_code"] = static_cast<int>(code);
    return out;
  };
  run.Phase("Converging");
  {
    // Which system booted: the host disk's (slipway.root=disk) or the ISO's.
    Sysroot booted(o.sysroot);
    auto cmdline = booted.ReadLine("/proc/cmdline");
    bool disk = cmdline && (" " + *cmdline + " ").find(std::string(" ") + kBootFromDiskArg + " ") != std::string::npos;
    run.report["booted_from"] = disk ? "host disk" : "installer medium";
    run.Status(std::string("Booted from the ") + (disk ? "host disk" : "installer medium"));
  }
  run.Status("This host finished its install (" + o.state_dir + "/installed); converging libvirt on its plan");
  auto plan = LoadPlan(o.state_dir + "/plan.json");
  if (!plan) return finish(plan.error().code(), plan.error().ToString());
  std::string uri = !o.connect.empty() ? o.connect : saved.value("libvirt_uri", std::string("qemu:///system"));
  run.report["libvirt_uri"] = uri;
  auto hv = ConnectWaiting(uri, run);
  if (!hv) return finish(hv.error().code(), hv.error().ToString());
  // The host bridge does not outlive a reboot of the live system: made
  // again, as the install made it, before any bridge-mode network needs it.
  if (saved.contains("host_network") && saved["host_network"].is_object() &&
      saved["host_network"].value("mode", "") == "bridge") {
    const nlohmann::json& hn = saved["host_network"];
    std::string bridge = hn.value("bridge", ""), uplink = hn.value("uplink", "");
    HostAddress address;
    if (hn.contains("addresses") && hn["addresses"].is_array() && !hn["addresses"].empty() &&
        hn["addresses"][0].is_string()) {
      address = {hn["addresses"][0].get<std::string>(), hn.value("gateway", "")};
    }
    if (!IsInterfaceName(bridge) || !IsInterfaceName(uplink)) {
      return finish(ExitCode::kInput, "report.json: host_network names no valid bridge and uplink");
    }
    auto made = EnsureHostBridge(uplink, bridge, SystemIp(), address);
    if (!made) return finish(made.error().code(), made.error().ToString());
    if (auto v = EnsurePlanVlans(*plan, bridge, SystemIp(), run); !v)
      return finish(v.error().code(), v.error().ToString());
    run.Status("Host bridge " + bridge + " on " + uplink + ": carries " + Join(made->addresses, ", ") +
               (made->changed ? "" : " (already in place)"));
  }
  Sysroot sysroot(o.sysroot);
  ApplyOptions ao;
  ao.state_dir = o.state_dir;
  ao.storage_root = o.storage_root;
  // The install's choice of KVM or TCG (its probe) holds for every boot.
  if (std::string t = saved.value("domain_type", ""); t == "kvm" || t == "qemu") ao.domain_type = t;
  ao.additive = true;  // a boot never removes anything
  if (auto hw = Detect(sysroot, StatvfsUsage(), {})) {
    ao.images_dir = FindImagesDir(sysroot, *hw, o.images_dir, o.storage_root).path;
    run.report["kept"] = KeptJson(sysroot, hw->csvs);
  }
  auto sum = Apply(
      *plan, **hv, ao,
      [&](const StepEvent& e) {
        if (e.action == "create")
          run.Status("Converging: " + ToString(e.step.kind) + " " + e.step.name + " was missing; " +
                     (e.step.kind == StepKind::kStart ? "started" : "created"));
      },
      nullptr);
  if (!sum) {
    // Drift (an object that differs from the plan) is reported, never replaced.
    run.Status("Converging failed: " + sum.error().message());
    return finish(sum.error().code(), sum.error().ToString());
  }
  run.report["steps"] = {{"created", sum->created}, {"kept", sum->kept}};
  nlohmann::json domains = DomainStates(*plan, **hv, run);
  size_t running = 0;
  for (const auto& d : domains) running += d["state"] == "running";
  run.report["domains"] = domains;
  run.report["vms"] = plan->vms.size();
  run.report["running"] = running;
  run.Phase("Running");
  run.Status("Running: " + std::to_string(running) + " of " + std::to_string(plan->vms.size()) + " VMs (" +
             std::to_string(sum->created) + " objects re-created, " + std::to_string(sum->kept) + " kept)");
  return finish(ExitCode::kOk, "");
}

}  // namespace slipway::installer
