// Host loading for host-facing commands.
#include "cli/host_context.h"

#include <ostream>

#include "common/atomic_file.h"
#include "installer/detect.h"

namespace slipway::cli {

std::vector<FlagSpec> HostFlags(std::vector<FlagSpec> extra) {
  extra.push_back({"help"});
  extra.push_back({"sysroot", true});
  extra.push_back({"csv", true, true});
  extra.push_back({"fs-usage", true});
  extra.push_back({"hardware", true});
  return extra;
}

Result<Host> LoadHost(const Args& args) {
  Host host;
  if (args.Has("hardware")) {
    if (args.Has("sysroot")) return Error::Input("give either --hardware or --sysroot, not both");
    std::string file = args.Get("hardware");
    auto text = ReadFile(file);
    if (!text) return std::move(text).error();
    try {
      host.report = nlohmann::json::parse(*text).get<installer::HardwareReport>();
    } catch (const nlohmann::json::exception& e) {
      return Error::Input(file + ": not a hardware report from 'slipway detect --json': " + e.what());
    }
    host.origin = "report " + file;
    return host;
  }
  installer::Sysroot sysroot(args.Get("sysroot", "/"));
  if (!sysroot.Exists("/")) return Error::Input("sysroot '" + sysroot.root() + "' does not exist");
  std::unique_ptr<installer::FsUsageSource> usage = std::make_unique<installer::StatvfsUsage>();
  if (args.Has("fs-usage")) {
    auto recorded = installer::RecordedFsUsage::Load(args.Get("fs-usage"));
    if (!recorded) return std::move(recorded).error().Context("--fs-usage");
    usage = std::move(*recorded);
  }
  installer::DetectOptions options;
  options.extra_csvs = args.GetAll("csv");
  auto report = installer::Detect(sysroot, *usage, options);
  if (!report) return std::move(report).error();
  host.report = std::move(*report);
  host.origin = "sysroot " + sysroot.root();
  return host;
}

int ReportError(std::string_view command, const Error& e, Io io) {
  io.err << "slipway " << command << ": error: " << e.ToString() << "\n";
  return static_cast<int>(e.code());
}

int UsageError(std::string_view command, const Error& e, std::string_view help, Io io) {
  io.err << "slipway " << command << ": error: " << e.ToString() << "\n\n" << help;
  return 2;
}

}  // namespace slipway::cli

#include "installer/catalog.h"

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
