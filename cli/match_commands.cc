// slipway match / preflight.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/host_context.h"
#include "cli/install_disk_view.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "installer/detect/match.h"
#include "installer/plan/catalog.h"

namespace slipway::cli {

namespace {

using installer::CheckState;
using installer::RuleResult;

std::string Where(const SourcePos& p) {
  return p.file.empty() ? "default" : p.file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
}

nlohmann::json RuleJson(const RuleResult& r) {
  return {{"check", r.name},
          {"host", r.measured},
          {"threshold", r.threshold},
          {"state", r.state == CheckState::kPass   ? "pass"
                    : r.state == CheckState::kFail ? "fail"
                                                   : "skipped"},
          {"detail", r.detail},
          {"threshold_from", Where(r.source)}};
}

void PrintRules(const std::vector<RuleResult>& rules, std::ostream& out, bool preflight) {
  size_t wn = 5, wm = 4, wt = 5, ws = 4;
  for (const RuleResult& r : rules) {
    ws = std::max(ws, installer::StateName(r.state).size());
    wn = std::max(wn, r.name.size());
    wm = std::max(wm, r.measured.size());
    wt = std::max(wt, r.threshold.size());
  }
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w - std::min(w, s.size()) + 2, ' '); };
  if (!preflight) out << "  " << pad("CHECK", wn) << pad("HOST", wm) << pad("NEEDS", wt) << "RESULT  THRESHOLD FROM\n";
  for (const RuleResult& r : rules) {
    std::string state(installer::StateName(r.state));
    if (preflight) {
      out << "  " << pad(state, ws) << pad(r.name, wn) << "host: " << pad(r.measured, wm)
          << "needs: " << pad(r.threshold, wt) << "(" << Where(r.source) << ")\n";
      if (!r.detail.empty()) out << std::string(ws + 4, ' ') << r.detail << "\n";
    } else {
      out << "  " << pad(r.name, wn) << pad(r.measured, wm) << pad(r.threshold, wt)
          << pad(r.state == CheckState::kPass ? "pass" : "FAIL", 6) << Where(r.source) << "\n";
    }
  }
}

std::string HostLine(const Host& h) {
  const auto& m = h.report.smbios;
  std::string who = m.product.ok() ? (m.vendor.ok() ? *m.vendor + " " : "") + *m.product : "unknown model";
  if (m.serial.ok()) who += ", serial " + *m.serial;
  return h.origin + " (" + who + ")";
}

constexpr const char* kMatchHelp =
    "usage: slipway match [--sysroot DIR | --hardware REPORT.json] [--profiles DIR] [--csv PATH]...\n"
    "                     [--fs-usage FILE] [--json]\n\n"
    "Evaluates every hardware profile against this host: each rule with the host's\n"
    "value, the threshold, pass or fail, and the file:line the threshold comes from;\n"
    "then ranks the profiles that fit (the most demanding one that fits first).\n\n"
    "  --profiles DIR   profile tree (default: the bundled profiles/)\n"
    "  (--sysroot, --hardware, --csv, --fs-usage: as for 'slipway detect')\n\n"
    "Exit codes: 0 at least one profile fits, 2 bad input, 3 none fits (the\n"
    "nearest profile and what it lacks are printed).\n";

constexpr const char* kPreflightHelp =
    "usage: slipway preflight --profile NAME [--skip-check NAME]... [--sysroot DIR | --hardware REPORT.json]\n"
    "                         [--profiles DIR] [--csv PATH]... [--fs-usage FILE] [--answer FLEET.toml] [--json]\n\n"
    "Runs every check of hardware profile NAME against this host and prints one line\n"
    "per check: PASS, FAIL or SKIPPED (by --skip-check), with the measured value,\n"
    "the threshold and where it was set. Checks: virtualization, memory, cores,\n"
    "csv-count, csv-free, data-disk, nic-link, firmware, secure-boot, tpm. A skipped\n"
    "check is still printed and recorded in --json.\n\n"
    "Then the install disk: the rule from this host's entry in --answer FILE (or its\n"
    "[defaults]), else the profile's [install_disk]; the disk it chooses and why, and\n"
    "what it would erase; or the refusal, listing every disk; with no rule anywhere,\n"
    "none (a live install). Nothing is written.\n"
    "(slipway-installer writes the host system to that disk in its phase HostDisk.)\n\n"
    "Exit codes: 0 every check passed or was skipped, 2 bad input, 3 a check failed\n"
    "or the install-disk rule matches no single writable disk.\n";

}  // namespace

int RunMatch(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, HostFlags({{"json"}, {"profiles", true}}));
  if (!args) return UsageError("match", args.error(), kMatchHelp, io);
  if (args->Has("help")) {
    io.out << kMatchHelp;
    return 0;
  }
  auto host = LoadHost(*args);
  if (!host) return ReportError("match", host.error(), io);
  auto catalog = LoadCatalogOrReport(*args, "match", io);
  if (!catalog) return 2;
  auto matches = installer::MatchProfiles(host->report, catalog->hardware);
  bool any = !matches.empty() && matches[0].fits;
  if (args->Has("json")) {
    nlohmann::json j;
    j["host"] = host->origin;
    j["profiles"] = nlohmann::json::array();
    for (const auto& m : matches) {
      nlohmann::json rules = nlohmann::json::array();
      for (const RuleResult& r : m.rules) rules.push_back(RuleJson(r));
      j["profiles"].push_back(
          {{"name", m.profile->name}, {"file", m.profile->file}, {"fits", m.fits}, {"rules", rules}});
    }
    j["best"] = any ? matches[0].profile->name : "";
    io.out << DumpJson(j, 2) << "\n";
  } else {
    io.out << "Host: " << HostLine(*host) << "\n";
    for (const auto& m : matches) {
      io.out << "\nprofile '" << m.profile->name << "' (" << m.profile->file
             << "): " << (m.fits ? "FITS" : "does not fit, " + std::to_string(m.failed) + " check(s) fail") << "\n";
      PrintRules(m.rules, io.out, false);
    }
    std::vector<std::string> fitting;
    for (const auto& m : matches) {
      if (m.fits) fitting.push_back(std::to_string(fitting.size() + 1) + ". " + m.profile->name);
    }
    io.out << "\nProfiles that fit, best first: " << (fitting.empty() ? "none" : Join(fitting, "  ")) << "\n";
  }
  if (!any) {
    io.err << "slipway match: no hardware profile fits this host";
    if (!matches.empty()) {
      io.err << "; nearest is '" << matches[0].profile->name << "', which lacks:";
      for (const std::string& l : Lacks(matches[0])) io.err << "\n  - " << l;
    }
    io.err << "\n";
    return 3;
  }
  return 0;
}

int RunPreflight(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(
      argv, HostFlags({{"json"}, {"profiles", true}, {"profile", true}, {"skip-check", true, true}, {"answer", true}}));
  if (!args) return UsageError("preflight", args.error(), kPreflightHelp, io);
  if (args->Has("help")) {
    io.out << kPreflightHelp;
    return 0;
  }
  if (!args->Has("profile"))
    return UsageError("preflight", Error::Input("--profile NAME is required"), kPreflightHelp, io);
  auto skips = args->GetAll("skip-check");
  for (const std::string& s : skips) {
    const auto& names = installer::CheckNames();
    if (std::find(names.begin(), names.end(), s) == names.end()) {
      return UsageError("preflight",
                        Error::Input("unknown check '" + s + "'" + DidYouMeanSuffix(s, names) + "; checks are " +
                                     QuoteList(names, " and ")),
                        kPreflightHelp, io);
    }
  }
  auto host = LoadHost(*args);
  if (!host) return ReportError("preflight", host.error(), io);
  auto catalog = LoadCatalogOrReport(*args, "preflight", io);
  if (!catalog) return 2;
  std::string name = args->Get("profile");
  const installer::HardwareProfile* profile = catalog->FindHardware(name);
  if (!profile) {
    return ReportError(
        "preflight",
        Error::Input("unknown hardware profile '" + name + "'" + DidYouMeanSuffix(name, catalog->HardwareNames()) +
                     "; known: " + QuoteList(catalog->HardwareNames(), " and ")),
        io);
  }
  auto rules = installer::EvaluateRules(host->report, *profile, skips);
  auto disk = ViewInstallDisk(*args, *host, profile);
  if (!disk) return ReportError("preflight", disk.error(), io);
  size_t failed = 0, skipped = 0;
  for (const RuleResult& r : rules) {
    failed += r.state == CheckState::kFail;
    skipped += r.state == CheckState::kSkipped;
  }
  // Suggest the best profile that does fit, when this one does not.
  std::string suggestion;
  if (failed) {
    for (const auto& m : installer::MatchProfiles(host->report, catalog->hardware)) {
      if (m.fits && m.profile->name != name) {
        suggestion = m.profile->name;
        break;
      }
    }
  }
  if (args->Has("json")) {
    nlohmann::json checks = nlohmann::json::array();
    for (const RuleResult& r : rules) checks.push_back(RuleJson(r));
    io.out << DumpJson(nlohmann::json{{"host", host->origin},
                                      {"profile", name},
                                      {"checks", checks},
                                      {"failed", failed},
                                      {"skipped", skipped},
                                      {"suggestion", suggestion},
                                      {"install_disk", disk->json}},
                       2)
           << "\n";
  } else {
    io.out << "Preflight for profile '" << name << "' (" << profile->file << ") on " << HostLine(*host) << "\n";
    PrintRules(rules, io.out, true);
    io.out << "result: " << failed << " failed, " << rules.size() - failed - skipped << " passed, " << skipped
           << " skipped" << (suggestion.empty() ? "" : "; profile '" + suggestion + "' fits this host") << "\n";
    io.out << disk->text;
  }
  // The listing is on stdout already in text mode; JSON readers get it on stderr.
  if (disk->refused)
    io.err << "slipway preflight: error: " << (args->Has("json") ? disk->refusal : disk->summary + "\n");
  return failed || disk->refused ? 3 : 0;
}

}  // namespace slipway::cli
