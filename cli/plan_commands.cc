// slipway plan / plan diff / lb render.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>

#include "builder/kubernetes_bundle.h"
#include "cli/commands.h"
#include "cli/host_context.h"
#include "cli/install_disk_view.h"
#include "common/atomic_file.h"
#include "common/input_file.h"
#include "common/json_text.h"
#include "common/kubernetes.h"
#include "common/state_lock.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "installer/apply/lb_push.h"
#include "installer/plan/catalog.h"
#include "installer/plan/config_gen.h"
#include "installer/plan/lb_sync.h"
#include "installer/plan/plan_ops.h"
#include "installer/plan/planner.h"
#include "installer/service/answer.h"

namespace slipway::cli {

namespace {

using installer::Plan;

constexpr const char* kPlanHelp =
    "usage: slipway plan [--sysroot DIR | --hardware REPORT.json]... [--profile NAME|auto]\n"
    "                    [--cluster FILE]... [--profiles DIR] [--fs-usage FILE]... [--csv PATH]...\n"
    "                    [--answer FLEET.toml] [--kubernetes BUNDLE] [--json] [--explain]\n"
    "                    [--out PLAN.json]\n"
    "       slipway plan diff OLD.json NEW.json [--json]\n\n"
    "Computes the whole deployment as data: the management cluster (API-server VM +\n"
    "load-balancer VM), one workload cluster per --cluster profile, VM sizes, MACs and\n"
    "IPs, firmware, placement on hosts (anti-affinity, no memory overcommit) and on\n"
    "every CSV (weighted by free space), and the generated HAProxy, keepalived,\n"
    "kubeadm (external etcd), etcd (one member per control plane) and cloud-init\n"
    "files. Nothing is created; secrets and certificates appear only as\n"
    "{{secret:NAME}} references.\n\n"
    "  --sysroot/--hardware  one per host (default: this machine)\n"
    "  --profile NAME|auto   hardware profile (default auto: the best that fits every host)\n"
    "  --cluster FILE        a workload cluster profile; repeatable\n"
    "  --json                print the plan as JSON (byte-identical for the same inputs)\n"
    "  --explain             show why each VM got its size, host and CSVs\n"
    "  --out FILE            also write the JSON plan to FILE (atomically)\n"
    "  --answer FILE         take the host's entry in this fleet answer file, as the\n"
    "                        installer does: its install-disk rule (else the hardware\n"
    "                        profile's [install_disk]) and, from [host.network], the\n"
    "                        management cluster's network (NAT, or the host bridge)\n"
    "  --kubernetes BUNDLE   the Kubernetes bundle the node images are built with (its\n"
    "                        manifest is read): a cluster without kubernetes_version runs\n"
    "                        the bundle's version, one with another version is refused.\n"
    "                        Without it the plan says: no Kubernetes bundle: nodes run\n"
    "                        etcd and containerd only\n\n"
    "Each host's install disk is shown: the disk the rule chooses and why, or no\n"
    "disk for a live install. A rule that matches no single writable disk stops the\n"
    "plan (exit 3) with every disk listed. Nothing is written here: slipway-installer\n"
    "writes the host system to that disk in its phase HostDisk (see README).\n\n"
    "Exit codes: 0 planned, 2 bad input, 3 the hosts or CSVs cannot hold the clusters\n"
    "(the message says what is missing and what to remove).\n";

constexpr const char* kLbHelp =
    "usage: slipway lb render --plan PLAN.json --cluster NAME --services FILE.toml [--out FILE]\n"
    "       slipway lb sync --plan PLAN.json --cluster NAME [--services FILE|-] [--state DIR]\n"
    "                       [--out-dir DIR] [--render-only]\n\n"
    "sync reads the Services as the Kubernetes API lists them: the v1 List that\n"
    "'kubectl get svc -A -o json' prints (stdin with '-' or no --services), or the\n"
    "TOML form below (a FILE ending in .toml). Each Service of type LoadBalancer\n"
    "keeps its VIP from the last sync (STATE/lb/CLUSTER.json, default STATE\n"
    "/var/lib/slipway), or gets its spec.loadBalancerIP (an error when that is\n"
    "outside the cluster's vip_pool or taken), or else the lowest free one; removed\n"
    "Services free theirs. It renders haproxy.cfg (one\n"
    "frontend per Service port) and, for a keepalived pair, each LB's\n"
    "keepalived.conf with the Service VIPs in the VRRP instance (a single LB holds\n"
    "them as addresses); checks them with haproxy -c and keepalived -t; writes them\n"
    "to --out-dir; records the VIPs; installs them in every load-balancer VM of the\n"
    "cluster; and prints, on stdout, the status.loadBalancer.ingress each Service\n"
    "should get, as a v1 List (for kubectl patch or a controller).\n\n"
    "Install: ssh as root to each LB with the cluster's own key (STATE/secrets/\n"
    "lb-ssh_CLUSTER/key, made by apply, which put its public key in the LBs). That\n"
    "key can only run lb-apply, which checks the files again, renames them into\n"
    "place, opens the Service ports in the LB's firewall, reloads HAProxy seamlessly\n"
    "and reloads keepalived. Host keys are trusted on first use (STATE/lb/\n"
    "known_hosts). Nothing needs a network beyond the LBs' own. --render-only stops\n"
    "before the install. An LB that cannot be reached or refuses is named, the\n"
    "others are still installed, and the exit code is 1: run sync again.\n\n"
    "render (and sync's TOML form):\n"
    "Renders the haproxy.cfg of a workload cluster's load-balancer VMs: the API\n"
    "frontend plus one frontend per Service of type LoadBalancer, each on a VIP from\n"
    "the cluster's vip_pool, balanced over every worker's NodePort. FILE.toml holds\n"
    "[[service]] tables: name, namespace (default \"default\"), port, node_port.\n";

std::string Gib(uint64_t b) { return FormatBytes(b); }

void PrintPlan(const Plan& p, bool explain, std::ostream& out) {
  out << "Plan: " << p.hosts.size() << " host(s), hardware profile '" << p.hardware_profile << "', "
      << p.clusters.size() << " cluster(s), " << p.vms.size() << " VMs, " << p.csvs.size() << " CSV(s)\n";
  // Said before anything that could read as a finished cluster.
  bool no_bundle = std::find(p.warnings.begin(), p.warnings.end(), kNoKubernetesBundle) != p.warnings.end();
  if (no_bundle) out << kNoKubernetesBundle << "\n";
  out << "\n";
  out << "Hosts\n";
  for (const auto& h : p.hosts) {
    out << "  " << h.id << "  vCPU " << h.vcpus_used << "/" << h.vcpu_capacity << "  memory " << Gib(h.memory_used)
        << "/" << Gib(h.memory_capacity) << "  (" << h.origin << ")\n";
  }
  out << "CSVs\n";
  std::vector<installer::PlanCsv> by_path = p.csvs;
  std::sort(by_path.begin(), by_path.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  for (const auto& c : by_path) {
    out << "  " << c.path << "  " << Gib(c.allocated_bytes) << " of " << Gib(c.free_bytes) << " free planned  (" << c.id
        << ")\n";
  }
  std::map<std::string, std::string> csv_path;
  for (const auto& c : p.csvs) csv_path[c.id] = c.path;
  for (const auto& c : p.clusters) {
    out << "\nCluster " << c.name << " (" << c.kind
        << (c.kubernetes_version.empty() ? "" : ", Kubernetes " + c.kubernetes_version) << "), API VIP " << c.api_vip
        << (c.lb_ha ? ", keepalived VRRP" : "") << "\n";
    size_t wn = 4, ws = 4;
    for (const std::string& id : c.vms) {
      const auto* vm = p.FindVm(id);
      wn = std::max(wn, vm->name.size());
      ws = std::max(ws, vm->size.size());
    }
    auto pad = [](const std::string& s, size_t w) {
      return s + std::string(w > s.size() ? w - s.size() : 0, ' ') + "  ";
    };
    out << "  " << pad("VM", wn) << pad("ROLE", 13) << pad("SIZE", ws) << pad("vCPU", 4) << pad("MEM", 7)
        << pad("IP", 15) << pad("FIRMWARE", 11) << "DISKS\n";
    for (const std::string& id : c.vms) {
      const auto* vm = p.FindVm(id);
      std::string disks;
      for (const auto& d : vm->disks) {
        disks += (disks.empty() ? "" : ", ") + d.kind + " " + Gib(d.size_bytes) + " on " + csv_path[d.csv_id];
      }
      out << "  " << pad(vm->name, wn) << pad(vm->role, 13) << pad(vm->size, ws) << pad(std::to_string(vm->vcpus), 4)
          << pad(Gib(static_cast<uint64_t>(vm->memory_mib) << 20), 7) << pad(vm->nics[0].ip, 15)
          << pad(vm->firmware.name, 11) << disks << (p.hosts.size() > 1 ? "  host " + vm->host_id : "") << "\n";
      if (explain) {
        for (const std::string& e : vm->explain) out << "      - " << e << "\n";
      }
    }
  }
  out << "\nSecrets referenced (generated at apply time, never stored in the plan): " << p.secrets.size() << "\n";
  for (const std::string& w : p.warnings) {
    if (w != kNoKubernetesBundle) out << "warning: " << w << "\n";
  }
}

int RunPlanDiff(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"json"}, {"help"}});
  if (!args) return UsageError("plan diff", args.error(), kPlanHelp, io);
  if (args->Has("help")) {
    io.out << kPlanHelp;
    return 0;
  }
  if (args->positionals().size() != 2) {
    return UsageError("plan diff", Error::Input("give OLD.json and NEW.json"), kPlanHelp, io);
  }
  auto before = installer::LoadPlan(args->positionals()[0]);
  if (!before) return ReportError("plan diff", before.error(), io);
  auto after = installer::LoadPlan(args->positionals()[1]);
  if (!after) return ReportError("plan diff", after.error(), io);
  auto d = installer::DiffPlans(*before, *after);
  if (args->Has("json")) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& c : d.change) changes.push_back({{"id", c.id}, {"fields", c.fields}});
    io.out << DumpJson(nlohmann::json{{"add", d.add}, {"remove", d.remove}, {"change", changes}}, 2) << "\n";
    return 0;
  }
  for (const auto& id : d.add) io.out << "+ " << id << "\n";
  for (const auto& id : d.remove) io.out << "- " << id << "\n";
  for (const auto& c : d.change) io.out << "~ " << c.id << ": " << Join(c.fields, ", ") << "\n";
  io.out << d.add.size() << " to add, " << d.change.size() << " to change, " << d.remove.size() << " to remove\n";
  return 0;
}

}  // namespace

int RunPlan(std::span<char* const> argv, Io io) {
  if (!argv.empty() && std::string_view(argv[0]) == "diff") return RunPlanDiff(argv.subspan(1), io);
  auto args = Args::Parse(argv, HostFlags({{"json"},
                                           {"explain"},
                                           {"out", true},
                                           {"profiles", true},
                                           {"profile", true},
                                           {"cluster", true, true},
                                           {"answer", true},
                                           {"kubernetes", true}}));
  if (!args) return UsageError("plan", args.error(), kPlanHelp, io);
  if (args->Has("help")) {
    io.out << kPlanHelp;
    return 0;
  }
  if (!args->positionals().empty()) {
    return UsageError("plan", Error::Input("unexpected argument '" + args->positionals()[0] + "'"), kPlanHelp, io);
  }
  auto hosts = LoadHosts(*args);
  if (!hosts) return ReportError("plan", hosts.error(), io);
  auto catalog = LoadCatalogOrReport(*args, "plan", io);
  if (!catalog) return 2;

  // Cluster profiles named on the command line, validated like 'slipway check'.
  Diagnostics diags;
  std::vector<installer::ClusterProfile> clusters;
  for (const std::string& file : args->GetAll("cluster")) {
    if (auto t = LoadTomlFile(file, &diags)) {
      if (auto c = installer::ReadClusterProfile(*t, file, &diags)) clusters.push_back(std::move(*c));
    }
  }
  installer::Catalog refs = *catalog;
  refs.clusters = clusters;
  installer::CrossCheckCatalog(refs, &diags);
  if (diags.HasErrors()) {
    diags.Sort();
    for (const Diagnostic& d : diags.items()) io.err << RenderDiagnostic(d) << "\n";
    return 2;
  }

  installer::PlanInputs in;
  for (Host& h : *hosts) in.hosts.push_back({std::move(h.report), h.origin, ""});
  std::string profile_name = args->Get("profile", "auto");
  if (profile_name == "auto") {
    auto chosen = installer::ChooseProfile(in.hosts, catalog->hardware);
    if (!chosen) return ReportError("plan", chosen.error(), io);
    in.profile = *chosen;
  } else {
    in.profile = catalog->FindHardware(profile_name);
    if (!in.profile) {
      return ReportError("plan",
                         Error::Input("unknown hardware profile '" + profile_name + "'" +
                                      DidYouMeanSuffix(profile_name, catalog->HardwareNames()) +
                                      "; known: " + QuoteList(catalog->HardwareNames(), " and ")),
                         io);
    }
  }
  for (const auto& c : clusters) in.clusters.push_back(&c);
  in.sizes = &*catalog->sizes;
  in.firmware = &*catalog->firmware;
  // With --answer, the management network is the one the installer would
  // plan from the host's [host.network] (NAT by default, or the host bridge).
  if (!in.hosts.empty()) {
    auto entry = AnswerEntry(*args, Host{in.hosts[0].report, in.hosts[0].origin});
    if (!entry) return ReportError("plan", entry.error(), io);
    if (*entry) {
      auto mgmt = installer::MgmtNetwork(**entry);
      if (!mgmt) return ReportError("plan", mgmt.error(), io);
      in.management = *mgmt;
    }
  }
  if (args->Has("kubernetes")) {
    auto bundle = builder::ReadBundleManifestOf(args->Get("kubernetes"));
    if (!bundle) return ReportError("plan", bundle.error(), io);
    in.kubernetes_bundle_version = bundle->kubernetes_version;
  }
  auto plan = installer::MakePlan(in);
  if (!plan) return ReportError("plan", plan.error(), io);
  // Each host's install disk: shown (a dry run) and checked before any plan is written.
  std::string disks;
  for (const auto& h : in.hosts) {
    auto view = ViewInstallDisk(*args, Host{h.report, h.origin}, in.profile);
    if (!view) return ReportError("plan", view.error(), io);
    if (view->refused) return ReportError("plan", Error::HostUnsuitable(h.origin + ": " + view->refusal), io);
    disks += "\n" + h.origin + ": " + view->text;
  }
  std::string json = DumpJson(nlohmann::json(*plan), 2) + "\n";
  if (args->Has("out")) {
    if (auto st = WriteFileAtomic(args->Get("out"), json, 0644); !st) return ReportError("plan", st.error(), io);
  }
  if (args->Has("json")) {
    io.out << json;
  } else {
    PrintPlan(*plan, args->Has("explain"), io.out);
    io.out << disks;
    if (args->Has("out")) io.out << "plan written to " << args->Get("out") << "\n";
  }
  return 0;
}

// haproxy -c or keepalived -t on `text`; "" when it passes.
std::string Validate(const std::vector<std::string>& cmd, const std::string& file, const std::string& text) {
  if (auto st = WriteFileAtomic(file, text, 0600); !st) return st.error().message();
  std::vector<std::string> argv = cmd;
  argv.push_back(file);
  RunOptions opts;
  opts.allow_failure = true;
  auto r = RunCommand(argv, opts);
  if (!r) return r.error().message();
  if (r->exit_code != 0) return Join(argv, " ") + " refused it:\n" + r->out + r->err;
  return "";
}

// Installs the checked files in every load balancer of the cluster, over
// SSH with the cluster's key (installer/apply/lb_push.h). Returns the exit
// code: 0 when every LB took them, 1 when one could not (each is named).
int InstallLbRules(const std::string& state, const std::string& cluster, bool ha,
                   const std::vector<installer::VrrpPeer>& lbs, int prefix,
                   const std::map<std::string, std::string>& files, const std::vector<installer::LbRule>& rules,
                   const std::set<std::string>& vips, Io io) {
  if (lbs.empty()) {
    io.err << "lb sync: cluster '" << cluster << "' has no load-balancer VMs; nothing to install\n";
    return 1;
  }
  const std::string key = state + "/secrets/lb-ssh_" + cluster + "/key";
  if (::access(key.c_str(), R_OK) != 0) {
    io.err << "lb sync: no load-balancer key for cluster '" << cluster << "' (" << key
           << "): apply makes it and puts it in the LBs; run apply with this --state first, or add --render-only\n";
    return 1;
  }
  std::set<int> port_set;
  for (const installer::LbRule& r : rules) port_set.insert(static_cast<int>(r.service.port));
  std::vector<int> ports(port_set.begin(), port_set.end());
  // A single LB holds the Service VIPs as addresses of its own (a pair's
  // keepalived holds them in the VRRP instance).
  std::string addresses;
  if (!ha) {
    for (const std::string& vip : vips) addresses += vip + "/" + std::to_string(prefix) + "\n";
  }
  installer::LbLogin login;
  login.key_file = key;
  login.known_hosts = state + "/lb/known_hosts";
  int failed = 0;
  // The standby first, the preferred VRRP master (the first LB) last: while
  // the master reloads, the peer that could take its VIPs already has the
  // new rules.
  for (auto it = lbs.rbegin(); it != lbs.rend(); ++it) {
    const installer::VrrpPeer& lb = *it;
    auto k = files.find("keepalived-" + lb.name + ".conf");
    auto payload = installer::LbPayload(files.at("haproxy.cfg"), k == files.end() ? "" : k->second, ports,
                                        ha ? std::nullopt : std::optional<std::string>(addresses));
    if (!payload) return ReportError("lb sync", payload.error(), io);
    auto t0 = std::chrono::steady_clock::now();
    auto said = installer::PushLbPayload(lb.name, lb.ip, *payload, login);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!said) {
      io.err << "lb sync: " << said.error().message() << "\n";
      ++failed;
      continue;
    }
    std::ostringstream secs;
    secs.precision(2);
    secs << std::fixed << s;
    std::string one_line = *said;
    std::replace(one_line.begin(), one_line.end(), '\n', ' ');
    io.err << "installed on " << lb.name << " (" << lb.ip << ") in " << secs.str() << " s: " << one_line << "\n";
  }
  if (failed) {
    io.err << "lb sync: " << failed << " of " << lbs.size()
           << " load balancer(s) do not have these rules; fix what is said above and run lb sync again\n";
    return 1;
  }
  return 0;
}

int RunLbSync(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"help"},
                                 {"plan", true},
                                 {"cluster", true},
                                 {"services", true},
                                 {"state", true},
                                 {"out-dir", true},
                                 {"render-only"}});
  if (!args) return UsageError("lb sync", args.error(), kLbHelp, io);
  if (args->Has("help")) {
    io.out << kLbHelp;
    return 0;
  }
  for (const char* f : {"plan", "cluster"}) {
    if (!args->Has(f)) return UsageError("lb sync", Error::Input(std::string("--") + f + " is required"), kLbHelp, io);
  }
  std::string cluster = args->Get("cluster");
  if (!IsDns1123Label(cluster)) {
    return UsageError("lb sync", Error::Input("--cluster takes a cluster name (a DNS-1123 label)"), kLbHelp, io);
  }
  auto plan = installer::LoadPlan(args->Get("plan"));
  if (!plan) return ReportError("lb sync", plan.error(), io);
  const installer::PlanCluster* c = plan->FindCluster(cluster);
  if (!c) return ReportError("lb sync", Error::Input("the plan has no cluster '" + cluster + "'"), io);

  // The Services: kubectl's JSON (a file or stdin), or lb render's TOML.
  std::string source = args->Get("services", "-");
  std::vector<installer::LbServiceSpec> services;
  std::vector<std::string> warnings;
  if (source.size() > 5 && source.compare(source.size() - 5, 5, ".toml") == 0) {
    Diagnostics diags;
    std::optional<std::vector<installer::LbService>> toml;
    if (auto t = LoadTomlFile(source, &diags)) toml = installer::ReadLbServices(*t, source, &diags);
    if (!toml) {
      for (const Diagnostic& d : diags.items()) io.err << RenderDiagnostic(d) << "\n";
      return 2;
    }
    services = installer::FromLbServices(*toml);
  } else {
    std::string text;
    if (source == "-") {
      std::string chunk(65536, '\0');
      ssize_t n;
      while ((n = ::read(STDIN_FILENO, chunk.data(), chunk.size())) > 0) {
        text.append(chunk.data(), static_cast<size_t>(n));
        if (text.size() > kMaxJsonBytes) {
          return ReportError("lb sync", Error::Input("stdin: more than " + FormatBytes(kMaxJsonBytes) + " of JSON"),
                             io);
        }
      }
      source = "stdin";
    } else {
      auto t = ReadInputFile(source, kMaxJsonBytes);
      if (!t) return ReportError("lb sync", t.error(), io);
      text = std::move(*t);
    }
    auto parsed = installer::ParseServiceList(text, source, &warnings);
    if (!parsed) return ReportError("lb sync", parsed.error(), io);
    services = std::move(*parsed);
  }

  // One writer per state folder; the VIPs of the last sync.
  std::string state = args->Get("state", "/var/lib/slipway");
  auto lock = StateLock::Acquire(state);
  if (!lock) return ReportError("lb sync", lock.error(), io);
  std::string record = state + "/lb/" + cluster + ".json";
  std::map<std::string, std::string> previous;
  if (std::filesystem::exists(record)) {
    auto j = LoadJsonFile(record);
    if (!j) return ReportError("lb sync", j.error(), io);
    try {
      previous = j->at("vips").get<std::map<std::string, std::string>>();
    } catch (const nlohmann::json::exception& e) {
      return ReportError("lb sync", Error::Input(record + ": not a VIP record: " + e.what()), io);
    }
  }
  auto vips = installer::AssignVips(*plan, cluster, services, previous);
  if (!vips) return ReportError("lb sync", vips.error(), io);
  auto rules = installer::SyncRules(*plan, cluster, services, *vips);
  if (!rules) return ReportError("lb sync", rules.error(), io);
  auto haproxy = installer::RenderLbConfig(*plan, cluster, *rules);
  if (!haproxy) return ReportError("lb sync", haproxy.error(), io);
  std::map<std::string, std::string> files = {{"haproxy.cfg", *haproxy}};
  std::vector<installer::VrrpPeer> peers;  // every LB of the cluster, in plan order
  int prefix = 24;
  for (const std::string& id : c->vms) {
    const installer::PlanVm* vm = plan->FindVm(id);
    if (vm && vm->role == "loadbalancer" && !vm->nics.empty()) {
      peers.push_back({vm->name, vm->nics[0].ip});
      prefix = vm->nics[0].prefix;
    }
  }
  std::set<std::string> extra;
  for (const auto& [key, vip] : *vips) extra.insert(vip);
  if (c->lb_ha) {
    for (size_t i = 0; i < peers.size(); ++i) {
      auto k = installer::KeepalivedConfig(cluster, i, peers, c->api_vip, prefix,
                                           std::vector<std::string>(extra.begin(), extra.end()));
      if (!k) return ReportError("lb sync", k.error(), io);
      files["keepalived-" + peers[i].name + ".conf"] = *k;
    }
  }
  // Checked by the real tools before anything is recorded or written.
  std::string check_dir = state + "/lb/.check";
  std::error_code ec;
  std::filesystem::create_directories(check_dir, ec);
  for (const auto& [name, text] : files) {
    bool is_haproxy = name == "haproxy.cfg";
    // keepalived -t also checks that the VRRP interface exists. It is the
    // LB VM's eth0 (the agent names its NICs as planned), which this host
    // need not have: the check runs in a private network namespace that
    // holds an eth0, where it can be made (root), else here. lb-apply
    // checks again in the VM itself.
    std::string why = is_haproxy ? Validate({"haproxy", "-c", "-q", "-f"}, check_dir + "/" + name, text)
                                 : Validate(RunCommand({"unshare", "--net", "--", "ip", "link", "add", "eth0", "type",
                                                        "veth", "peer", "name", "eth0-peer"},
                                                       RunOptions{})
                                                    .ok()
                                                ? std::vector<std::string>{"unshare", "--net", "--", "sh", "-c",
                                                                           "ip link add eth0 type veth peer name "
                                                                           "eth0-peer && exec keepalived -t -f \"$0\""}
                                                : std::vector<std::string>{"keepalived", "-t", "-f"},
                                            check_dir + "/" + name, text);
    if (!why.empty()) return ReportError("lb sync", Error::Runtime(name + ": " + why), io);
  }
  std::filesystem::remove_all(check_dir, ec);
  if (args->Has("out-dir")) {
    std::string dir = args->Get("out-dir");
    std::filesystem::create_directories(dir, ec);
    for (const auto& [name, text] : files) {
      if (auto st = WriteFileAtomic(dir + "/" + name, text, 0644); !st) return ReportError("lb sync", st.error(), io);
    }
  }
  nlohmann::json rec = {{"schema", "slipway.lb-vips/v1"}, {"cluster", cluster}, {"vips", *vips}};
  if (auto st = WriteFileAtomic(record, DumpJson(rec, 2) + "\n", 0644); !st) {
    return ReportError("lb sync", st.error(), io);
  }
  for (const std::string& w : warnings) io.err << "warning: " << w << "\n";
  for (const auto& s : services) {
    io.err << "service " << s.Key() << ": " << vips->at(s.Key());
    for (const auto& p : s.ports) io.err << " " << p.port << "->" << p.node_port;
    io.err << (previous.count(s.Key()) ? "" : " (new)") << "\n";
  }
  for (const auto& [key, vip] : previous) {
    if (!vips->count(key)) io.err << "service " << key << ": removed, " << vip << " freed\n";
  }
  int rc = 0;
  if (!args->Has("render-only")) rc = InstallLbRules(state, cluster, c->lb_ha, peers, prefix, files, *rules, extra, io);
  io.out << DumpJson(installer::IngressList(services, *vips), 2) << "\n";
  return rc;
}

int RunLb(std::span<char* const> argv, Io io) {
  if (!argv.empty() && std::string_view(argv[0]) == "sync") return RunLbSync(argv.subspan(1), io);
  if (argv.empty() || std::string_view(argv[0]) != "render") {
    if (!argv.empty() && std::string_view(argv[0]) == "--help") {
      io.out << kLbHelp;
      return 0;
    }
    return UsageError("lb", Error::Input("lb takes 'render' or 'sync'"), kLbHelp, io);
  }
  auto args =
      Args::Parse(argv.subspan(1), {{"help"}, {"plan", true}, {"cluster", true}, {"services", true}, {"out", true}});
  if (!args) return UsageError("lb render", args.error(), kLbHelp, io);
  if (args->Has("help")) {
    io.out << kLbHelp;
    return 0;
  }
  for (const char* f : {"plan", "cluster", "services"}) {
    if (!args->Has(f))
      return UsageError("lb render", Error::Input(std::string("--") + f + " is required"), kLbHelp, io);
  }
  auto plan = installer::LoadPlan(args->Get("plan"));
  if (!plan) return ReportError("lb render", plan.error(), io);
  Diagnostics diags;
  std::optional<std::vector<installer::LbService>> services;
  if (auto t = LoadTomlFile(args->Get("services"), &diags)) {
    services = installer::ReadLbServices(*t, args->Get("services"), &diags);
  }
  if (!services) {
    for (const Diagnostic& d : diags.items()) io.err << RenderDiagnostic(d) << "\n";
    return 2;
  }
  auto rules = installer::PlanLbRules(*plan, args->Get("cluster"), *services);
  if (!rules) return ReportError("lb render", rules.error(), io);
  auto cfg = installer::RenderLbConfig(*plan, args->Get("cluster"), *rules);
  if (!cfg) return ReportError("lb render", cfg.error(), io);
  if (args->Has("out")) {
    if (auto st = WriteFileAtomic(args->Get("out"), *cfg, 0644); !st) return ReportError("lb render", st.error(), io);
  } else {
    io.out << *cfg;
  }
  for (const auto& r : *rules) {
    io.err << "service " << r.service.ns << "/" << r.service.name << ": " << r.vip << ":" << r.service.port << " -> "
           << r.backends.size() << " node(s) on port " << r.service.node_port << "\n";
  }
  return 0;
}

}  // namespace slipway::cli
