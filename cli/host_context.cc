// Host loading for host-facing commands.
#include "cli/host_context.h"

#include <ostream>

#include "common/atomic_file.h"
#include "common/input_file.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "installer/detect/detect.h"

namespace slipway::cli {

std::vector<FlagSpec> HostFlags(std::vector<FlagSpec> extra) {
  extra.push_back({"help"});
  extra.push_back({"sysroot", true, true});
  extra.push_back({"csv", true, true});
  extra.push_back({"fs-usage", true, true});
  extra.push_back({"hardware", true, true});
  return extra;
}

namespace {

Result<Host> ReadReport(const std::string& file) {
  Host host;
  auto text = ReadInputFile(file, kMaxJsonBytes);
  if (!text) return std::move(text).error();
  try {
    nlohmann::json j = nlohmann::json::parse(*text);
    if (std::string at = FirstFloat(j); !at.empty()) {
      return Error::Input(file + ": not a hardware report from 'slipway detect --json': " + at + " is not an integer");
    }
    host.report = j.get<installer::HardwareReport>();
  } catch (const nlohmann::json::exception& e) {
    return Error::Input(file + ": not a hardware report from 'slipway detect --json': " + e.what());
  }
  host.origin = "report " + file;
  return host;
}

Result<Host> DetectHost(const std::string& root, const std::string& fs_usage, const std::vector<std::string>& csvs) {
  Host host;
  installer::Sysroot sysroot(root);
  if (!sysroot.Exists("/")) return Error::Input("sysroot '" + sysroot.root() + "' does not exist");
  std::unique_ptr<installer::FsUsageSource> usage = std::make_unique<installer::StatvfsUsage>();
  if (!fs_usage.empty()) {
    auto recorded = installer::RecordedFsUsage::Load(fs_usage);
    if (!recorded) return std::move(recorded).error().Context("--fs-usage");
    usage = std::move(*recorded);
  }
  installer::DetectOptions options;
  options.extra_csvs = csvs;
  auto report = installer::Detect(sysroot, *usage, options);
  if (!report) return std::move(report).error();
  host.report = std::move(*report);
  host.origin = "sysroot " + sysroot.root();
  return host;
}

}  // namespace

Result<Host> LoadHost(const Args& args) {
  if (args.GetAll("hardware").size() + args.GetAll("sysroot").size() > 1) {
    return Error::Input("this command looks at one host: give one --sysroot or one --hardware");
  }
  if (args.Has("hardware")) {
    if (args.Has("sysroot")) return Error::Input("give either --hardware or --sysroot, not both");
    return ReadReport(args.Get("hardware"));
  }
  return DetectHost(args.Get("sysroot", "/"), args.Get("fs-usage"), args.GetAll("csv"));
}

Result<std::vector<Host>> LoadHosts(const Args& args) {
  std::vector<Host> hosts;
  for (const std::string& file : args.GetAll("hardware")) {
    auto h = ReadReport(file);
    if (!h) return std::move(h).error();
    hosts.push_back(std::move(*h));
  }
  std::vector<std::string> roots = args.GetAll("sysroot");
  std::vector<std::string> usages = args.GetAll("fs-usage");
  if (roots.empty() && hosts.empty()) roots.push_back("/");
  if (usages.size() > 1 && usages.size() != roots.size()) {
    return Error::Input("give one --fs-usage per --sysroot (in the same order), or one for all");
  }
  for (size_t i = 0; i < roots.size(); ++i) {
    std::string usage = usages.empty() ? "" : usages.size() == 1 ? usages[0] : usages[i];
    auto h = DetectHost(roots[i], usage, args.GetAll("csv"));
    if (!h) return std::move(h).error();
    hosts.push_back(std::move(*h));
  }
  return hosts;
}

int ReportError(std::string_view command, const Error& e, Io io) {
  io.err << "slipway " << command << ": error: " << SanitizeForDisplay(e.ToString(), true) << "\n";
  return static_cast<int>(e.code());
}

int UsageError(std::string_view command, const Error& e, std::string_view help, Io io) {
  io.err << "slipway " << command << ": error: " << SanitizeForDisplay(e.ToString(), true) << "\n\n" << help;
  return 2;
}

}  // namespace slipway::cli

#include "installer/plan/catalog.h"

namespace slipway::cli {

std::optional<installer::Catalog> LoadCatalogOrReport(const Args& args, std::string_view command, Io io) {
  std::string dir = args.Get("profiles", DataDir() + "/profiles");
  std::string firmware = args.Get("firmware", DataDir() + "/firmware/firmware.toml");
  Diagnostics diags;
  installer::Catalog catalog = installer::LoadProfileTree(dir, firmware, &diags);
  installer::CrossCheckCatalog(catalog, &diags);
  if (catalog.hardware.empty() && !diags.HasErrors()) {
    diags.Error({dir + "/hardware", 0, 0}, "no hardware profiles found; pass --profiles DIR");
  }
  if (diags.HasErrors()) {
    diags.Sort();
    for (const Diagnostic& d : diags.items()) io.err << RenderDiagnostic(d) << "\n";
    io.err << "slipway " << command << ": error: the profiles in " << dir << " are not valid (run 'slipway check "
           << dir << "')\n";
    return std::nullopt;
  }
  return catalog;
}

}  // namespace slipway::cli
