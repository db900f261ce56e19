// Reading the VM size catalogue and hardware profiles, plus the name, label
// and taint rules shared by every profile kind.
#include "installer/model/profiles.h"

#include <set>

#include "common/strings.h"

namespace slipway::installer {

const VmSize* VmSizeCatalog::Find(std::string_view name) const {
  for (const VmSize& s : sizes) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::vector<std::string> VmSizeCatalog::Names() const {
  std::vector<std::string> out;
  for (const VmSize& s : sizes) out.push_back(s.name);
  return out;
}

std::optional<std::string> ReadDnsName(TableReader& r, std::string_view key, Need need) {
  auto name = r.String(key, need);
  if (!name) return std::nullopt;
  std::string problem = Dns1123Problem(*name);
  if (!problem.empty()) {
    r.ErrorAt(key, "'" + std::string(key) + "' '" + *name + "' is not a valid DNS-1123 name: it " + problem);
    return std::nullopt;
  }
  return name;
}

std::string LabelKeyProblem(std::string_view key) {
  std::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty() || prefix.size() > 253) return "has an empty or too long prefix";
    for (const std::string& part : Split(prefix, '.')) {
      if (!IsDns1123Label(part)) return "has a prefix that is not a DNS subdomain";
    }
  }
  if (name.empty() || name.size() > 63) return "name part must be 1 to 63 characters";
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return std::string("contains '") + c + "'";
  }
  if (!alnum(name.front()) || !alnum(name.back())) return "must start and end with a letter or digit";
  return "";
}

std::string LabelValueProblem(std::string_view value) {
  if (value.empty()) return "";  // an empty value is allowed
  if (value.size() > 63) return "is " + std::to_string(value.size()) + " characters long; at most 63 are allowed";
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  for (char c : value) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') {
      return std::string("contains '") + c + "'; only letters, digits, '-', '_' and '.' are allowed";
    }
  }
  if (!alnum(value.front()) || !alnum(value.back())) return "must start and end with a letter or digit";
  return "";
}

std::string TaintProblem(std::string_view taint) {
  size_t colon = taint.rfind(':');
  if (colon == std::string_view::npos) return "has no effect (expected key=value:NoSchedule)";
  std::string_view effect = taint.substr(colon + 1);
  if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
    return "has effect '" + std::string(effect) + "'; it must be 'NoSchedule', 'PreferNoSchedule' or 'NoExecute'";
  }
  std::string_view kv = taint.substr(0, colon);
  size_t eq = kv.find('=');
  std::string_view key = kv.substr(0, eq);
  std::string key_problem = LabelKeyProblem(key);
  if (!key_problem.empty()) return "key '" + std::string(key) + "' " + key_problem;
  if (eq != std::string_view::npos) {
    std::string_view value = kv.substr(eq + 1);
    std::string value_problem = LabelValueProblem(value);
    if (!value_problem.empty()) return "value '" + std::string(value) + "' " + value_problem;
  }
  return "";
}

std::string SemverProblem(std::string_view v) {
  const std::string expected = "is not a semantic version MAJOR.MINOR.PATCH like 1.28.5";
  std::string_view core = v.substr(0, v.find('-'));
  auto parts = Split(core, '.');
  if (parts.size() != 3) return expected;
  for (const std::string& p : parts) {
    if (p.empty() || p.size() > 4) return expected;
    for (char c : p) {
      if (c < '0' || c > '9') return expected;
    }
    if (p.size() > 1 && p[0] == '0') return expected + " (no leading zeros)";
  }
  if (core.size() < v.size()) {
    // A pre-release: dot-separated identifiers of [0-9A-Za-z-] (semver 2.0.0 item 9).
    for (const std::string& id : Split(v.substr(core.size() + 1), '.')) {
      if (id.empty()) return expected + " (empty pre-release part)";
      for (char c : id) {
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
        if (!ok) return expected;
      }
    }
  }
  return "";
}

std::optional<VmSizeCatalog> ReadVmSizes(const toml::table& root, const std::string& file, Diagnostics* diags) {
  size_t errors_before = diags->ErrorCount();
  VmSizeCatalog catalog;
  catalog.file = file;
  TableReader top(root, file, "", diags);
  top.Allow("kind");
  std::set<std::string> seen;
  for (const toml::table* t : top.TableArray("size", Need::kRequired)) {
    TableReader r(*t, file, "[[size]]", diags);
    VmSize s;
    s.pos = r.TablePos();
    s.name = r.String("name", Need::kRequired).value_or("");
    if (!s.name.empty() && !seen.insert(s.name).second) r.ErrorAt("name", "VM size '" + s.name + "' is defined twice");
    s.vcpus = r.Int("vcpus", Need::kRequired, 1, 256).value_or(0);
    // Memory in GiB, or in MiB for sizes below a GiB; exactly one of them.
    // memory_gib stays required unless memory_mib is there, so a misspelt
    // key is still one error with a did-you-mean.
    auto gib = r.Int("memory_gib", r.Has("memory_mib") ? Need::kOptional : Need::kRequired, 1, 4096);
    auto mib = r.Int("memory_mib", Need::kOptional, 128, 4096 * 1024);
    if (gib && mib) r.ErrorAt("memory_mib", "VM size '" + s.name + "' gives both memory_gib and memory_mib; keep one");
    s.memory_mib = gib ? *gib * 1024 : mib.value_or(0);
    s.os_disk_gib = r.Int("os_disk_gib", Need::kOptional, 8, 65536).value_or(100);
    r.Finish();
    catalog.sizes.push_back(std::move(s));
  }
  top.Finish();
  if (diags->ErrorCount() != errors_before) return std::nullopt;
  return catalog;
}

namespace {

template <typename T>
void ReadInto(TableReader& r, std::string_view key, std::optional<T> v, T* out,
              std::map<std::string, SourcePos>* positions, std::string_view prefix) {
  if (v) {
    *out = *v;
    (*positions)[std::string(prefix) + std::string(key)] = r.ValuePos(key);
  }
}

}  // namespace

std::optional<HardwareProfile> ReadHardwareProfile(const toml::table& root, const std::string& file, Diagnostics* diags,
                                                   HardwareProfile* partial) {
  size_t errors_before = diags->ErrorCount();
  HardwareProfile p;
  p.file = file;
  TableReader top(root, file, "", diags);
  top.Allow("kind");
  p.name = ReadDnsName(top, "name", Need::kRequired).value_or("");
  p.description = top.String("description", Need::kOptional).value_or("");

  if (const toml::table* t = top.Table("match", Need::kRequired)) {
    TableReader r(*t, file, "[match]", diags);
    auto& pos = p.positions;
    MatchRules& m = p.match;
    ReadInto(r, "min_cores", r.Int("min_cores", Need::kRequired, 1, 4096), &m.min_cores, &pos, "match.");
    ReadInto(r, "min_memory_gib", r.Int("min_memory_gib", Need::kRequired, 1, 1 << 20), &m.min_memory_gib, &pos,
             "match.");
    ReadInto(r, "min_data_disks", r.Int("min_data_disks", Need::kOptional, 0, 1024), &m.min_data_disks, &pos, "match.");
    ReadInto(r, "min_csvs", r.Int("min_csvs", Need::kOptional, 0, 64), &m.min_csvs, &pos, "match.");
    ReadInto(r, "min_csv_free_gib", r.Int("min_csv_free_gib", Need::kOptional, 0, int64_t{1} << 30),
             &m.min_csv_free_gib, &pos, "match.");
    ReadInto(r, "require_virtualization", r.Bool("require_virtualization", Need::kOptional), &m.require_virtualization,
             &pos, "match.");
    ReadInto(r, "require_nic_link", r.Bool("require_nic_link", Need::kOptional), &m.require_nic_link, &pos, "match.");
    ReadInto(r, "firmware", r.Enum("firmware", Need::kOptional, {"uefi", "bios", "any"}), &m.firmware, &pos, "match.");
    ReadInto(r, "secure_boot", r.Bool("secure_boot", Need::kOptional), &m.secure_boot, &pos, "match.");
    ReadInto(r, "tpm", r.Enum("tpm", Need::kOptional, {"2.0", "any"}), &m.tpm, &pos, "match.");
    if (m.secure_boot && m.firmware == "bios") {
      r.ErrorAt("secure_boot", "secure_boot = true needs UEFI, but firmware = \"bios\"; use firmware = \"uefi\"");
    }
    r.Finish();
  }
  if (const toml::table* t = top.Table("management", Need::kRequired)) {
    TableReader r(*t, file, "[management]", diags);
    ReadInto(r, "apiserver_size", r.String("apiserver_size", Need::kRequired), &p.apiserver_size, &p.positions,
             "management.");
    ReadInto(r, "loadbalancer_size", r.String("loadbalancer_size", Need::kRequired), &p.loadbalancer_size, &p.positions,
             "management.");
    ReadInto(r, "firmware", r.String("firmware", Need::kOptional), &p.management_firmware, &p.positions, "management.");
    if (!r.Has("firmware")) p.positions.erase("management.firmware");
    r.Finish();
  }
  if (const toml::table* t = top.Table("capacity", Need::kOptional)) {
    TableReader r(*t, file, "[capacity]", diags);
    ReadInto(r, "cpu_overcommit_ratio", r.Number("cpu_overcommit_ratio", Need::kOptional, 1.0, 16.0),
             &p.cpu_overcommit_ratio, &p.positions, "capacity.");
    ReadInto(r, "reserved_memory_gib", r.Int("reserved_memory_gib", Need::kOptional, 0, 1 << 16),
             &p.reserved_memory_gib, &p.positions, "capacity.");
    r.Finish();
  }
  p.install_disk = ReadInstallDiskRule(top, file, diags);
  if (p.install_disk) p.install_disk->origin = "hardware profile '" + p.name + "' (" + file + ")";
  top.Finish();
  if (p.match.min_memory_gib > 0 && p.reserved_memory_gib >= p.match.min_memory_gib) {
    diags->Error(p.positions.count("capacity.reserved_memory_gib") ? p.positions["capacity.reserved_memory_gib"]
                                                                   : top.TablePos(),
                 "'reserved_memory_gib' (" + std::to_string(p.reserved_memory_gib) +
                     ") leaves no memory for VMs on the smallest matching host (min_memory_gib = " +
                     std::to_string(p.match.min_memory_gib) + ")");
  }
  if (partial) *partial = p;
  if (diags->ErrorCount() != errors_before) return std::nullopt;
  return p;
}

}  // namespace slipway::installer
