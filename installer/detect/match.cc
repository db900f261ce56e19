// Profile matching and preflight rules.
#include "installer/detect/match.h"

#include <algorithm>

#include "common/strings.h"

namespace slipway::installer {

namespace {

constexpr uint64_t kGiB = 1ull << 30;

std::string Gib(uint64_t bytes) { return FormatBytes(bytes); }

SourcePos Where(const HardwareProfile& p, const std::string& key) {
  auto it = p.positions.find(key);
  return it != p.positions.end() ? it->second : SourcePos{};
}

struct Builder {
  const HardwareProfile& p;
  const std::vector<std::string>& skip;
  std::vector<RuleResult> out;

  void Add(std::string name, std::string measured, std::string threshold, bool pass, std::string detail,
           const std::string& key) {
    RuleResult r;
    r.name = std::move(name);
    r.measured = std::move(measured);
    r.threshold = std::move(threshold);
    r.source = Where(p, key);
    bool skipped = std::find(skip.begin(), skip.end(), r.name) != skip.end();
    r.state = skipped ? CheckState::kSkipped : pass ? CheckState::kPass : CheckState::kFail;
    if (r.state == CheckState::kFail) r.detail = std::move(detail);
    out.push_back(std::move(r));
  }

  // A ">= threshold" rule on a value that may be unknown.
  template <typename T>
  void AtLeast(const std::string& name, const Probed<T>& value, int64_t need, const std::string& key, auto show,
               const std::string& what) {
    std::string threshold = ">= " + show(static_cast<T>(need));
    if (!value.ok()) {
      Add(name, "unknown", threshold, false, what + " is unknown (" + value.unknown + ")", key);
      return;
    }
    bool pass = static_cast<int64_t>(*value) >= need;
    Add(name, show(*value), threshold, pass,
        "host has " + show(*value) + " " + what + "; profile '" + p.name + "' needs at least " +
            show(static_cast<T>(need)),
        key);
  }
};

}  // namespace

const std::vector<std::string>& CheckNames() {
  static const std::vector<std::string> kNames = {"virtualization", "memory",   "cores",    "csv-count",   "csv-free",
                                                  "data-disk",      "nic-link", "firmware", "secure-boot", "tpm"};
  return kNames;
}

std::string_view StateName(CheckState s) {
  switch (s) {
    case CheckState::kPass:
      return "PASS";
    case CheckState::kFail:
      return "FAIL";
    case CheckState::kSkipped:
      return "SKIPPED (by --skip-check)";
  }
  return "";
}

std::vector<RuleResult> EvaluateRules(const HardwareReport& host, const HardwareProfile& p,
                                      const std::vector<std::string>& skip) {
  Builder b{p, skip, {}};
  const MatchRules& m = p.match;
  auto count = [](int64_t v) { return std::to_string(v); };

  if (!m.require_virtualization) {
    b.Add("virtualization", host.cpu.virtualization.ok() ? (*host.cpu.virtualization ? "yes" : "no") : "unknown",
          "not required", true, "", "match.require_virtualization");
  } else if (!host.cpu.virtualization.ok()) {
    b.Add("virtualization", "unknown", "vmx or svm", false,
          "cannot tell whether the CPU supports virtualization (" + host.cpu.virtualization.unknown + ")",
          "match.require_virtualization");
  } else {
    bool v = *host.cpu.virtualization;
    b.Add("virtualization", v ? "yes (" + host.cpu.virtualization_flag + ")" : "no vmx/svm flag", "vmx or svm", v,
          "the CPU does not advertise vmx or svm; enable VT-x/AMD-V in the firmware setup",
          "match.require_virtualization");
  }

  const Probed<uint64_t>& mem_gib = host.memory_bytes;
  // Memory is compared in bytes; the threshold is shown in GiB.
  {
    std::string threshold = ">= " + std::to_string(m.min_memory_gib) + " GiB";
    if (!mem_gib.ok()) {
      b.Add("memory", "unknown", threshold, false, "memory is unknown (" + mem_gib.unknown + ")",
            "match.min_memory_gib");
    } else {
      uint64_t need = static_cast<uint64_t>(m.min_memory_gib) * kGiB;
      // Firmware and the kernel keep a little memory; allow 3% under the nominal size.
      bool pass = *mem_gib >= need - need / 33;
      b.Add("memory", Gib(*mem_gib), threshold, pass,
            "host has " + Gib(*mem_gib) + " memory; profile '" + p.name + "' needs at least " + threshold.substr(3),
            "match.min_memory_gib");
    }
  }
  b.AtLeast("cores", host.cpu.cores, m.min_cores, "match.min_cores", count, "cores");

  int64_t writable = 0;
  for (const Csv& c : host.csvs) writable += c.writable ? 1 : 0;
  int64_t readonly = static_cast<int64_t>(host.csvs.size()) - writable;
  std::string csv_note = readonly ? " (" + std::to_string(readonly) + " read-only not counted)" : "";
  b.Add("csv-count", std::to_string(writable) + csv_note, ">= " + std::to_string(m.min_csvs), writable >= m.min_csvs,
        "host has " + std::to_string(writable) + " writable CSV(s)" + csv_note + "; profile '" + p.name +
            "' needs at least " + std::to_string(m.min_csvs),
        "match.min_csvs");
  uint64_t free_need = static_cast<uint64_t>(m.min_csv_free_gib) * kGiB;
  uint64_t free = host.CsvFreeBytes();
  std::string free_threshold = std::to_string(m.min_csv_free_gib) + " GiB";
  b.Add("csv-free", Gib(free), ">= " + free_threshold, free >= free_need,
        "the writable CSVs have " + Gib(free) + " free in total; profile '" + p.name + "' needs at least " +
            free_threshold,
        "match.min_csv_free_gib");

  auto data = host.DataDisks();
  std::vector<std::string> names;
  for (const Disk* d : data) names.push_back(d->name);
  std::string excluded;
  for (const Disk& d : host.disks) {
    if (!DataDiskProblem(d).empty()) excluded += (excluded.empty() ? "" : "; ") + d.name + " " + DataDiskProblem(d);
  }
  b.Add("data-disk", std::to_string(data.size()) + (names.empty() ? "" : " (" + Join(names, ", ") + ")"),
        ">= " + std::to_string(m.min_data_disks), static_cast<int64_t>(data.size()) >= m.min_data_disks,
        "host has " + std::to_string(data.size()) + " disk(s) that can hold data; profile '" + p.name +
            "' needs at least " + std::to_string(m.min_data_disks) + (excluded.empty() ? "" : " (" + excluded + ")"),
        "match.min_data_disks");

  std::vector<std::string> up;
  for (const Nic& n : host.nics) {
    if (n.physical && n.link.value_or(false)) up.push_back(n.name);
  }
  b.Add("nic-link", up.empty() ? "no physical NIC with link" : Join(up, ", ") + " up",
        m.require_nic_link ? "a physical NIC with link" : "not required", !m.require_nic_link || !up.empty(),
        "no physical NIC has a link; connect a cable or check the switch port", "match.require_nic_link");

  bool fw_ok = m.firmware == "any" || m.firmware == host.firmware.boot_mode;
  b.Add("firmware", host.firmware.boot_mode == "uefi" ? "UEFI" : "BIOS",
        m.firmware == "any"    ? "any"
        : m.firmware == "uefi" ? "UEFI"
                               : "BIOS",
        fw_ok,
        "host boots with " + std::string(host.firmware.boot_mode == "uefi" ? "UEFI" : "BIOS") + "; profile '" + p.name +
            "' needs " + (m.firmware == "uefi" ? "UEFI (switch the boot mode in the firmware setup)" : "BIOS"),
        "match.firmware");

  const Probed<bool>& sb = host.firmware.secure_boot;
  std::string sb_shown = sb.ok() ? (*sb ? "on" : "off") : "unknown";
  b.Add("secure-boot", sb_shown, m.secure_boot ? "on" : "not required", !m.secure_boot || sb.value_or(false),
        sb.ok() ? "host boots with Secure Boot off; profile '" + p.name +
                      "' needs it on (enable Secure Boot in the firmware setup, with Microsoft's UEFI CA enrolled)"
                : "Secure Boot is unknown (" + sb.unknown + "); profile '" + p.name + "' needs it on",
        "match.secure_boot");
  std::string tpm_shown = host.firmware.tpm_present ? host.firmware.tpm_version.value_or("unknown") : "none";
  bool tpm_ok = m.tpm == "any" || tpm_shown == m.tpm;
  b.Add("tpm", tpm_shown, m.tpm == "any" ? "not required" : m.tpm, tpm_ok,
        "host has TPM " + tpm_shown + "; profile '" + p.name + "' needs a TPM " + m.tpm +
            " (enable it in the firmware setup)",
        "match.tpm");
  return std::move(b.out);
}

std::vector<ProfileMatch> MatchProfiles(const HardwareReport& host, const std::vector<HardwareProfile>& profiles) {
  std::vector<ProfileMatch> out;
  for (const HardwareProfile& p : profiles) {
    ProfileMatch m;
    m.profile = &p;
    m.rules = EvaluateRules(host, p);
    for (const RuleResult& r : m.rules) {
      if (r.state == CheckState::kFail) ++m.failed;
    }
    m.fits = m.failed == 0;
    out.push_back(std::move(m));
  }
  // "Nearest" among those that do not fit: the relative gaps in memory,
  // cores and CSV space added up.
  for (ProfileMatch& m : out) {
    const MatchRules& r = m.profile->match;
    auto gap = [](double need, double have) { return need > 0 && have < need ? (need - have) / need : 0.0; };
    m.shortfall = gap(static_cast<double>(r.min_memory_gib),
                      static_cast<double>(host.memory_bytes.value_or(0)) / static_cast<double>(kGiB)) +
                  gap(static_cast<double>(r.min_cores), static_cast<double>(host.cpu.cores.value_or(0))) +
                  gap(static_cast<double>(r.min_csv_free_gib), static_cast<double>(host.CsvFreeBytes()) / kGiB);
  }
  std::stable_sort(out.begin(), out.end(), [](const ProfileMatch& a, const ProfileMatch& b) {
    if (a.fits != b.fits) return a.fits;
    if (a.fits) {
      const MatchRules &x = a.profile->match, &y = b.profile->match;
      if (x.min_memory_gib != y.min_memory_gib) return x.min_memory_gib > y.min_memory_gib;
      if (x.min_cores != y.min_cores) return x.min_cores > y.min_cores;
      return a.profile->name < b.profile->name;
    }
    if (a.failed != b.failed) return a.failed < b.failed;
    if (a.shortfall != b.shortfall) return a.shortfall < b.shortfall;
    return a.profile->name < b.profile->name;
  });
  return out;
}

std::vector<std::string> Lacks(const ProfileMatch& m) {
  std::vector<std::string> parts;
  for (const RuleResult& r : m.rules) {
    if (r.state == CheckState::kFail) parts.push_back(r.detail);
  }
  return parts;
}

}  // namespace slipway::installer
