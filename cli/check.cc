// slipway check.
#include "cli/check.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "builder/image_definition.h"
#include "builder/kubernetes_bundle.h"
#include "cli/commands.h"
#include "common/args.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "installer/plan/catalog.h"

namespace slipway::cli {

namespace fs = std::filesystem;
using installer::Catalog;

namespace {

const std::vector<std::string> kKinds = {"vm-sizes", "hardware-profile", "cluster", "fleet", "firmware",
                                         "image",    "kubernetes-bundle"};

std::string Plural(size_t n, const std::string& word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

class Checker {
 public:
  Checker(CheckReport* report, std::string data_dir, std::string profiles_root)
      : report_(report), data_dir_(std::move(data_dir)), profiles_root_(std::move(profiles_root)) {}

  void AddPath(const std::string& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".toml") files.push_back(it->path().string());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) report_->diags.Warning({path, 0, 0}, "no *.toml files in this folder");
      for (const std::string& f : files) Load(f, false);
    } else if (fs::exists(path, ec)) {
      Load(path, false);
    } else {
      report_->diags.Error({path, 0, 0}, "no such file or folder");
    }
  }

  // Loads what the given files refer to but were not given, then checks references.
  void Resolve() {
    std::set<std::string> roots;
    if (!profiles_root_.empty()) roots.insert(profiles_root_);
    for (const CheckedFile& f : report_->files) {
      if (auto root = ProfileRoot(f.file); root && profiles_root_.empty()) roots.insert(*root);
    }
    if (roots.empty()) roots.insert(data_dir_ + "/profiles");
    const std::string& root = *roots.begin();
    catalog_.sizes_hint = root + "/vm-sizes.toml";
    fs::path fw = fs::path(root).parent_path() / "firmware" / "firmware.toml";
    if (!fs::exists(fw)) fw = fs::path(data_dir_) / "firmware" / "firmware.toml";
    catalog_.firmware_hint = fw.string();
    // Profiles first: loading them is what makes sizes and firmware needed.
    if (needs_profiles_) {
      for (const std::string& f : installer::ListTomlFiles(root + "/hardware")) Load(f, true);
      for (const std::string& f : installer::ListTomlFiles(root + "/clusters")) Load(f, true);
    }
    if (needs_sizes_ && !catalog_.sizes && fs::exists(catalog_.sizes_hint)) Load(catalog_.sizes_hint, true);
    if (needs_firmware_ && !catalog_.firmware && fs::exists(fw)) Load(fw.string(), true);
    installer::CrossCheckCatalog(catalog_, &report_->diags);
  }

 private:
  // For profiles/clusters/x.toml (or profiles/vm-sizes.toml): "profiles".
  static std::optional<std::string> ProfileRoot(const std::string& file) {
    fs::path p(file);
    std::string dir = p.parent_path().filename().string();
    if (dir == "hardware" || dir == "clusters" || dir == "fleet") return p.parent_path().parent_path().string();
    if (p.filename() == "vm-sizes.toml") return p.parent_path().string();
    return std::nullopt;
  }

  void Load(const std::string& file, bool implied) {
    std::string key = fs::weakly_canonical(file).string();
    if (!loaded_.insert(key).second) return;
    Diagnostics& d = report_->diags;
    CheckedFile checked{file, "", "", implied};
    auto table = LoadTomlFile(file, &d);
    if (!table) {
      report_->files.push_back(checked);
      return;
    }
    std::string kind = KindFromPath(file);
    if (const toml::node* k = table->get("kind")) {
      auto v = k->value<std::string>();
      if (!k->is_string() || std::find(kKinds.begin(), kKinds.end(), *v) == kKinds.end()) {
        d.Error(PosOf(*k, file),
                "'kind' must be one of " + QuoteList(kKinds) + (v ? DidYouMeanSuffix(*v, kKinds) : std::string()));
        report_->files.push_back(checked);
        return;
      }
      kind = *v;
    }
    checked.kind = kind;
    if (kind.empty()) {
      d.Error({file, 1, 1}, "cannot tell what kind of file this is; add a top-level kind = \"...\" (one of " +
                                QuoteList(kKinds) + ")");
    } else {
      checked.summary = Read(kind, *table, file);
    }
    report_->files.push_back(checked);
  }

  std::string Read(const std::string& kind, const toml::table& t, const std::string& file) {
    Diagnostics* d = &report_->diags;
    if (kind == "vm-sizes") {
      auto v = installer::ReadVmSizes(t, file, d);
      if (!v) return "";
      std::string s = Plural(v->sizes.size(), "size");
      if (!catalog_.sizes) catalog_.sizes = std::move(*v);
      return s;
    }
    if (kind == "firmware") {
      auto v = firmware::ReadFirmwareCatalog(t, file, d);
      if (!v) return "";
      std::string s = Join(v->Names(), ", ");
      if (!catalog_.firmware) catalog_.firmware = std::move(*v);
      return s;
    }
    if (kind == "hardware-profile") {
      needs_sizes_ = needs_firmware_ = true;
      installer::HardwareProfile partial;
      auto v = installer::ReadHardwareProfile(t, file, d, &partial);
      if (!v) {
        catalog_.hardware.push_back(std::move(partial));
        return "";
      }
      std::string s = v->name + ": >= " + std::to_string(v->match.min_cores) + " cores, " +
                      std::to_string(v->match.min_memory_gib) + " GiB, " + Plural(v->match.min_csvs, "CSV");
      catalog_.hardware.push_back(std::move(*v));
      return s;
    }
    if (kind == "cluster") {
      needs_sizes_ = needs_firmware_ = true;
      installer::ClusterProfile partial;
      auto v = installer::ReadClusterProfile(t, file, d, &partial);
      if (!v) {
        catalog_.clusters.push_back(std::move(partial));
        return "";
      }
      std::string s = v->name + ": " + Plural(v->control_plane_count, "control plane") + ", " +
                      Plural(v->load_balancer_count, "LB") + ", " + Plural(v->node_pools.size(), "pool") + ", " +
                      Plural(v->TotalVms(), "VM");
      catalog_.clusters.push_back(std::move(*v));
      return s;
    }
    if (kind == "fleet") {
      needs_profiles_ = true;
      installer::Fleet partial;
      auto v = installer::ReadFleet(t, file, d, &partial);
      if (!v) {
        catalog_.fleets.push_back(std::move(partial));
        return "";
      }
      std::string s = Plural(v->hosts.size(), "host");
      catalog_.fleets.push_back(std::move(*v));
      return s;
    }
    if (kind == "kubernetes-bundle") {
      auto v = builder::ReadBundleManifest(t, file, d);
      return v ? "Kubernetes " + v->kubernetes_version + ", " + Plural(v->files.size(), "file") +
                     " (sha256 not checked)"
               : "";
    }
    auto v = builder::ReadImageDefinition(t, file, d);
    return v ? v->name + " (" + std::string(builder::ToString(v->role)) + ")" : "";
  }

  CheckReport* report_;
  std::string data_dir_;
  std::string profiles_root_;
  Catalog catalog_;
  std::set<std::string> loaded_;
  bool needs_sizes_ = false;
  bool needs_firmware_ = false;
  bool needs_profiles_ = false;
};

void PrintText(const CheckReport& r, std::ostream& out, std::ostream& err) {
  size_t width = 0;
  for (const CheckedFile& f : r.files) width = std::max(width, f.file.size());
  size_t bad = 0;
  for (const CheckedFile& f : r.files) {
    size_t errors = r.diags.ErrorCountFor(f.file);
    if (errors) ++bad;
    std::string status = errors ? Plural(errors, "error") : "ok";
    out << "  " << (errors ? "FAIL " : "ok   ") << f.file << std::string(width - f.file.size() + 2, ' ')
        << (f.kind.empty() ? "?" : f.kind) << std::string(f.kind.size() < 17 ? 17 - f.kind.size() : 1, ' ')
        << (errors ? status : f.summary) << (f.implied ? "  (loaded to resolve references)" : "") << "\n";
  }
  out.flush();
  for (const Diagnostic& d : r.diags.items()) err << RenderDiagnostic(d) << "\n";
  err.flush();
  out << "checked " << Plural(r.files.size(), "file") << ": " << (r.files.size() - bad) << " valid, " << bad
      << " with errors (" << Plural(r.diags.ErrorCount(), "error") << ", " << Plural(r.diags.WarningCount(), "warning")
      << ")\n";
}

constexpr const char* kHelp =
    "usage: slipway check [--json] PATH...\n\n"
    "Validates profile files, fleet answer files, the firmware catalogue, image\n"
    "definitions and Kubernetes bundle manifests (kubernetes-bundle.toml). PATH may be a file or a folder (searched "
    "for *.toml). A file's kind\n"
    "comes from a top-level 'kind' key or its folder (profiles/hardware, profiles/clusters,\n"
    "profiles/fleet, images, firmware) or name (vm-sizes.toml). References (VM sizes,\n"
    "firmware, hardware profiles, clusters) are resolved across files.\n\n"
    "Every error is printed as FILE:LINE:COLUMN: error: MESSAGE.\n\n"
    "  --json   print {files, diagnostics, ok} as JSON on stdout\n\n"
    "Exit codes: 0 all valid, 2 errors found or bad usage.\n";

}  // namespace

std::string KindFromPath(const std::string& path) {
  fs::path p(path);
  if (p.filename() == "vm-sizes.toml") return "vm-sizes";
  if (p.filename() == builder::kBundleManifestName) return "kubernetes-bundle";
  std::string dir = p.parent_path().filename().string();
  if (dir == "hardware") return "hardware-profile";
  if (dir == "clusters") return "cluster";
  if (dir == "fleet") return "fleet";
  if (dir == "images") return "image";
  if (dir == "firmware") return "firmware";
  return "";
}

CheckReport CheckPaths(const std::vector<std::string>& paths, const std::string& data_dir,
                       const std::string& profiles_root) {
  CheckReport report;
  Checker checker(&report, data_dir, profiles_root);
  for (const std::string& p : paths) checker.AddPath(p);
  checker.Resolve();
  report.diags.Sort();
  return report;
}

int RunCheck(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"json"}, {"help"}});
  if (!args) {
    io.err << "slipway check: error: " << args.error().ToString() << "\n" << kHelp;
    return 2;
  }
  if (args->Has("help")) {
    io.out << kHelp;
    return 0;
  }
  if (args->positionals().empty()) {
    io.err << "slipway check: error: name at least one file or folder\n" << kHelp;
    return 2;
  }
  CheckReport report = CheckPaths(args->positionals(), DataDir());
  if (args->Has("json")) {
    nlohmann::json j;
    j["ok"] = !report.diags.HasErrors();
    j["files"] = nlohmann::json::array();
    for (const CheckedFile& f : report.files) {
      j["files"].push_back({{"file", f.file},
                            {"kind", f.kind},
                            {"summary", f.summary},
                            {"implied", f.implied},
                            {"errors", report.diags.ErrorCountFor(f.file)}});
    }
    j["diagnostics"] = nlohmann::json::array();
    for (const Diagnostic& d : report.diags.items()) j["diagnostics"].push_back(DiagnosticToJson(d));
    io.out << DumpJson(j, 2) << "\n";
  } else {
    PrintText(report, io.out, io.err);
  }
  return report.diags.HasErrors() ? 2 : 0;
}

}  // namespace slipway::cli
