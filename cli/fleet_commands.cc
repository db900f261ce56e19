// slipway fleet check / fleet report.
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/check.h"
#include "cli/commands.h"
#include "cli/host_context.h"
#include "common/atomic_file.h"
#include "common/input_file.h"
#include "common/json_text.h"
#include "installer/plan/catalog.h"
#include "installer/service/answer.h"

namespace slipway::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFleetHelp =
    "usage: slipway fleet check FLEET.toml [--profiles DIR] [--json]\n"
    "       slipway fleet report PATH... [--json]\n\n"
    "check: validates a fleet answer file: every 'slipway check' rule (duplicate MACs,\n"
    "serials, UUIDs, names, addresses and VIPs; unknown profiles and clusters), and\n"
    "whether each host's clusters fit the smallest machine its hardware profile accepts.\n"
    "Profile and cluster names resolve in --profiles DIR (hardware/, clusters/,\n"
    "vm-sizes.toml), else in ../ when the file sits in a fleet/ folder, else in the\n"
    "bundled profiles.\n"
    "Exit 0 valid, 2 not.\n\n"
    "report: aggregates installer reports (PATH is a report.json or a folder holding\n"
    "one, searched recursively) into one table: which hosts are done, which failed\n"
    "and why (a host whose latest boot failed to converge counts as failed).\n"
    "Exit 0 all done, 1 any host failed or a report is unreadable, 2 bad usage.\n";

int Check(const Args& args, Io io) {
  std::string file = args.positionals().at(1);
  CheckReport report = CheckPaths({file}, DataDir(), args.Get("profiles", ""));
  std::string profiles = args.Get("profiles", "");
  if (profiles.empty()) {
    fs::path p = fs::path(file).parent_path();
    profiles = p.filename() == "fleet" ? p.parent_path().string() : DataDir() + "/profiles";
  }
  Diagnostics scratch;
  installer::Catalog catalog = installer::LoadProfileTree(
      profiles, fs::path(profiles).parent_path().string() + "/firmware/firmware.toml", &scratch);
  if (!catalog.firmware) {
    catalog.firmware =
        installer::LoadProfileTree(DataDir() + "/profiles", DataDir() + "/firmware/firmware.toml", &scratch).firmware;
  }
  if (auto t = LoadTomlFile(file, &scratch)) {
    installer::Fleet fleet;
    installer::ReadFleet(*t, file, &scratch, &fleet);
    installer::CheckFleetFits(fleet, catalog, &report.diags);
  }
  report.diags.Sort();
  if (args.Has("json")) {
    nlohmann::json j = {{"ok", !report.diags.HasErrors()}, {"diagnostics", nlohmann::json::array()}};
    for (const Diagnostic& d : report.diags.items()) j["diagnostics"].push_back(DiagnosticToJson(d));
    io.out << DumpJson(j, 2) << "\n";
  } else {
    for (const Diagnostic& d : report.diags.items()) io.err << RenderDiagnostic(d) << "\n";
    io.out << file << ": "
           << (report.diags.HasErrors() ? std::to_string(report.diags.ErrorCount()) + " error(s)" : "ok") << "\n";
  }
  return report.diags.HasErrors() ? 2 : 0;
}

int Report(const Args& args, Io io) {
  std::vector<std::string> files;
  for (size_t i = 1; i < args.positionals().size(); ++i) {
    const std::string& p = args.positionals()[i];
    std::error_code ec;
    if (fs::is_directory(p)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->path().filename() == "report.json") files.push_back(it->path().string());
      }
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  nlohmann::json rows = nlohmann::json::array();
  size_t failed = 0;
  for (const std::string& f : files) {
    auto text = ReadInputFile(f, kMaxJsonBytes);
    nlohmann::json r;
    try {
      if (!text) throw std::runtime_error(text.error().ToString());
      r = nlohmann::json::parse(*text);
      if (!r.is_object()) throw std::runtime_error("not a JSON object");
      std::string result = r.value("result", "?"), why = r.value("error", "");
      // A finished install whose latest boot failed to converge is failed now.
      if (result == "ok" && r.contains("boots") && r["boots"].is_array() && !r["boots"].empty() &&
          r["boots"].back().is_object() && r["boots"].back().value("result", "") != "ok") {
        result = "failed";
        why = "boot " + std::to_string(r["boots"].size()) +
              " after the install: " + r["boots"].back().value("error", std::string("no error recorded"));
      }
      bool ok = result == "ok";
      failed += !ok;
      rows.push_back({{"file", f},
                      {"host", r.value("host_name", r.value("host_id", "?"))},
                      {"profile", r.value("profile", "")},
                      {"result", result},
                      {"why", why},
                      {"vms", r.contains("plan") && r["plan"].is_object() ? r["plan"].value("vms", 0) : 0}});
    } catch (const std::exception& e) {
      rows.push_back({{"file", f}, {"host", "?"}, {"result", "unreadable"}, {"why", e.what()}});
      ++failed;
      continue;
    }
  }
  if (args.Has("json")) {
    io.out << DumpJson(nlohmann::json{{"hosts", rows}, {"done", rows.size() - failed}, {"failed", failed}}, 2) << "\n";
  } else {
    io.out << "HOST                 PROFILE      RESULT   VMS  WHY\n";
    for (const auto& r : rows) {
      std::string host = r["host"], profile = r.value("profile", ""), result = r["result"];
      io.out << host << std::string(host.size() < 21 ? 21 - host.size() : 1, ' ') << profile
             << std::string(profile.size() < 13 ? 13 - profile.size() : 1, ' ') << result
             << std::string(result.size() < 9 ? 9 - result.size() : 1, ' ') << r.value("vms", 0) << "    "
             << r.value("why", "") << "\n";
    }
    io.out << (rows.size() - failed) << " done, " << failed << " failed\n";
  }
  return failed ? 1 : 0;
}

}  // namespace

int RunFleet(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"help"}, {"json"}, {"profiles", true}});
  if (!args) return UsageError("fleet", args.error(), kFleetHelp, io);
  if (args->Has("help")) {
    io.out << kFleetHelp;
    return 0;
  }
  const auto& pos = args->positionals();
  if (pos.size() == 2 && pos[0] == "check") return Check(*args, io);
  if (pos.size() >= 2 && pos[0] == "report") return Report(*args, io);
  return UsageError("fleet", Error::Input("use 'fleet check FLEET.toml' or 'fleet report PATH...'"), kFleetHelp, io);
}

}  // namespace slipway::cli
