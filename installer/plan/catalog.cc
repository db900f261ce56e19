// Cross-file checks and profile tree loading.
#include "installer/plan/catalog.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/strings.h"

namespace slipway::installer {

namespace fs = std::filesystem;

const HardwareProfile* Catalog::FindHardware(std::string_view name) const {
  for (const HardwareProfile& h : hardware) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

const ClusterProfile* Catalog::FindCluster(std::string_view name) const {
  for (const ClusterProfile& c : clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<std::string> Catalog::HardwareNames() const {
  std::vector<std::string> out;
  for (const HardwareProfile& h : hardware) out.push_back(h.name);
  return out;
}

std::vector<std::string> Catalog::ClusterNames() const {
  std::vector<std::string> out;
  for (const ClusterProfile& c : clusters) out.push_back(c.name);
  return out;
}

namespace {

SourcePos At(const std::map<std::string, SourcePos>& positions, const std::string& key, const std::string& file) {
  auto it = positions.find(key);
  return it != positions.end() ? it->second : SourcePos{file, 0, 0};
}

class RefChecker {
 public:
  RefChecker(const Catalog& c, Diagnostics* d) : c_(c), d_(d) {}

  void Size(const std::string& name, const SourcePos& pos) {
    if (name.empty()) return;
    if (!c_.sizes) {
      if (!missing_sizes_reported_) {
        d_->Error(pos, "VM size '" + name + "' cannot be checked: no VM size catalogue was loaded (looked for " +
                           c_.sizes_hint + "); pass it to slipway check");
        missing_sizes_reported_ = true;
      }
      return;
    }
    if (!c_.sizes->Find(name)) {
      d_->Error(pos, "unknown VM size '" + name + "'" + DidYouMeanSuffix(name, c_.sizes->Names()) +
                         "; sizes are defined in " + c_.sizes->file);
    }
  }

  void Firmware(const std::string& name, const SourcePos& pos, std::string_view os = "linux") {
    if (name.empty()) return;
    if (!c_.firmware) {
      if (!missing_firmware_reported_) {
        d_->Error(pos, "firmware '" + name + "' cannot be checked: no firmware catalogue was loaded (looked for " +
                           c_.firmware_hint + ")");
        missing_firmware_reported_ = true;
      }
      return;
    }
    const firmware::VmFirmware* fw = c_.firmware->Find(name);
    if (!fw) {
      d_->Error(pos, "unknown firmware '" + name + "'" + DidYouMeanSuffix(name, c_.firmware->Names()) +
                         "; firmware is defined in " + c_.firmware->file + " (" + QuoteList(c_.firmware->Names()) +
                         ")");
    } else if (std::string why = firmware::SecureBootMismatch(*fw, os); !why.empty()) {
      d_->Warning(pos, why);
    }
  }

 private:
  const Catalog& c_;
  Diagnostics* d_;
  bool missing_sizes_reported_ = false;
  bool missing_firmware_reported_ = false;
};

template <typename T>
void CheckUniqueNames(const std::vector<T>& items, const char* what, Diagnostics* diags) {
  std::map<std::string, const T*> seen;
  for (const T& item : items) {
    auto [it, inserted] = seen.emplace(item.name, &item);
    if (!inserted) {
      diags->Error({item.file, 0, 0}, std::string(what) + " '" + item.name + "' is also defined in " +
                                          it->second->file + "; names must be unique");
    }
  }
}

}  // namespace

void CrossCheckCatalog(const Catalog& c, Diagnostics* diags) {
  RefChecker refs(c, diags);
  for (const HardwareProfile& h : c.hardware) {
    refs.Size(h.apiserver_size, At(h.positions, "management.apiserver_size", h.file));
    refs.Size(h.loadbalancer_size, At(h.positions, "management.loadbalancer_size", h.file));
    refs.Firmware(h.management_firmware, At(h.positions, "management.firmware", h.file));
  }
  for (const ClusterProfile& cl : c.clusters) {
    refs.Size(cl.control_plane_size, At(cl.positions, "control_plane.size", cl.file));
    refs.Firmware(cl.control_plane_firmware, At(cl.positions, "control_plane.firmware", cl.file));
    refs.Size(cl.load_balancer_size, At(cl.positions, "load_balancer.size", cl.file));
    refs.Firmware(cl.load_balancer_firmware, At(cl.positions, "load_balancer.firmware", cl.file));
    for (const NodePool& p : cl.node_pools) {
      refs.Size(p.size, p.size_pos);
      refs.Firmware(p.firmware, p.firmware_pos, p.os);
    }
  }
  CheckUniqueNames(c.hardware, "hardware profile", diags);
  CheckUniqueNames(c.clusters, "cluster", diags);
  for (const Fleet& f : c.fleets) {
    auto check_host = [&](const FleetHost& h) {
      if (!h.hardware_profile.empty() && !c.FindHardware(h.hardware_profile)) {
        diags->Error(At(h.positions, "hardware_profile", f.file),
                     "unknown hardware profile '" + h.hardware_profile + "'" +
                         DidYouMeanSuffix(h.hardware_profile, c.HardwareNames()) + "; known: " +
                         (c.hardware.empty() ? std::string("none loaded") : QuoteList(c.HardwareNames(), " and ")));
      }
      for (const std::string& name : h.clusters) {
        if (!c.FindCluster(name)) {
          diags->Error(At(h.positions, "clusters", f.file),
                       "unknown cluster '" + name + "'" + DidYouMeanSuffix(name, c.ClusterNames()) + "; known: " +
                           (c.clusters.empty() ? std::string("none loaded") : QuoteList(c.ClusterNames(), " and ")));
        }
      }
    };
    check_host(f.defaults);
    for (const FleetHost& h : f.hosts) check_host(h);
  }
}

std::vector<std::string> ListTomlFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".toml" && entry.is_regular_file()) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Catalog LoadProfileTree(const std::string& profiles_dir, const std::string& firmware_file, Diagnostics* diags) {
  Catalog c;
  c.sizes_hint = profiles_dir + "/vm-sizes.toml";
  c.firmware_hint = firmware_file;
  if (auto t = LoadTomlFile(c.sizes_hint, diags)) c.sizes = ReadVmSizes(*t, c.sizes_hint, diags);
  if (auto t = LoadTomlFile(firmware_file, diags)) c.firmware = firmware::ReadFirmwareCatalog(*t, firmware_file, diags);
  for (const std::string& f : ListTomlFiles(profiles_dir + "/hardware")) {
    if (auto t = LoadTomlFile(f, diags)) {
      if (auto p = ReadHardwareProfile(*t, f, diags)) c.hardware.push_back(std::move(*p));
    }
  }
  for (const std::string& f : ListTomlFiles(profiles_dir + "/clusters")) {
    if (auto t = LoadTomlFile(f, diags)) {
      if (auto p = ReadClusterProfile(*t, f, diags)) c.clusters.push_back(std::move(*p));
    }
  }
  return c;
}

}  // namespace slipway::installer
