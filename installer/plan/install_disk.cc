// The install-disk choice (see install_disk.h).
#include "installer/plan/install_disk.h"

#include <algorithm>

#include "common/strings.h"

namespace slipway::installer {

namespace {

constexpr uint64_t kGiB = 1ull << 30;

// Reasons a disk is never written, whatever the rule says.
std::string NeverReason(const Disk& d) {
  if (d.boot_medium)
    return "is the boot medium (" + d.boot_reason + "); Slipway never installs over what it booted from";
  if (!d.csv.empty()) return "backs CSV " + d.csv + "; shared storage is never an install disk";
  if (!d.in_use.empty()) return "is in use (" + Join(d.in_use, "; ") + ")";
  if (d.read_only) return "is read-only";
  if (d.transport == "optical") return "is an optical drive";
  if (d.transport == "virtual") return "is a virtual device";
  if (!d.size_bytes.ok()) return "has an unknown size (" + d.size_bytes.unknown + ")";
  return "";
}

std::string Media(const Disk& d) {
  if (d.transport == "nvme") return "nvme";
  if (!d.rotational.ok()) return "unknown media";
  return *d.rotational ? "hdd" : "ssd";
}

// Why `d` does not match `r`, or "" when it does.
std::string RuleMismatch(const Disk& d, const InstallDiskRule& r) {
  auto differs = [](const Probed<std::string>& have, const std::string& want, const char* what) -> std::string {
    if (want.empty()) return "";
    if (!have.ok()) return std::string(what) + " unknown (" + have.unknown + "), rule wants \"" + want + "\"";
    if (std::string(Trim(*have)) != want)
      return std::string(what) + " is \"" + std::string(Trim(*have)) + "\", rule wants \"" + want + "\"";
    return "";
  };
  for (std::string why :
       {differs(d.serial, r.serial, "serial"), differs(d.wwn, r.wwn, "WWN"), differs(d.model, r.model, "model")}) {
    if (!why.empty()) return why;
  }
  if (!r.by_path.empty() && std::find(d.by_path.begin(), d.by_path.end(), r.by_path) == d.by_path.end()) {
    return d.by_path.empty() ? "has no /dev/disk/by-path name, rule wants \"" + r.by_path + "\""
                             : "by-path is \"" + Join(d.by_path, "\", \"") + "\", rule wants \"" + r.by_path + "\"";
  }
  if (!r.transport.empty() && d.transport != r.transport)
    return "transport is " + d.transport + ", rule wants " + r.transport;
  uint64_t size = d.size_bytes.value_or(0);
  if (r.min_gib && size < static_cast<uint64_t>(*r.min_gib) * kGiB)
    return "is " + FormatBytes(size) + ", rule wants at least " + std::to_string(*r.min_gib) + " GiB";
  if (r.max_gib && size > static_cast<uint64_t>(*r.max_gib) * kGiB)
    return "is " + FormatBytes(size) + ", rule wants at most " + std::to_string(*r.max_gib) + " GiB";
  if (r.media != DiskMedia::kAny && Media(d) != DiskMediaName(r.media))
    return "is " + Media(d) + ", rule wants " + std::string(DiskMediaName(r.media));
  if (r.IsDefault()) {
    // The default picks only a fixed, local, solid-state disk; anything else must be named.
    if (d.removable.value_or(false)) return "is removable; the default rule takes fixed disks only (name it)";
    if (d.transport == "usb") return "is on USB; the default rule takes no USB disk (name it by serial)";
    if (!d.rotational.ok()) return "rotation unknown; the default rule takes non-rotational disks only";
    if (*d.rotational) return "is rotational; the default rule takes non-rotational disks only (set media = \"hdd\")";
    if (size < static_cast<uint64_t>(kDefaultInstallDiskMinGib) * kGiB)
      return "is " + FormatBytes(size) + ", the default rule wants at least " +
             std::to_string(kDefaultInstallDiskMinGib) + " GiB";
  }
  return "";
}

// What the disk holds, or "" when it is known empty.
std::string Holds(const Disk& d) {
  if (!d.contents.ok()) return "unknown contents (" + d.contents.unknown + ")";
  if (!d.contents->Empty()) return d.contents->Describe();
  if (!d.partitions.empty()) {
    std::vector<std::string> names;
    for (const Partition& p : d.partitions) names.push_back(p.name);
    return "partitions " + Join(names, ", ");
  }
  return "";
}

std::string MatchText(const InstallDiskRule& r) {
  return r.IsDefault() ? "fits the default rule" : "matches " + r.Describe();
}

}  // namespace

std::string_view VerdictName(DiskVerdictKind k) {
  switch (k) {
    case DiskVerdictKind::kChosen:
      return "chosen";
    case DiskVerdictKind::kCandidate:
      return "candidate";
    case DiskVerdictKind::kHoldsData:
      return "holds data";
    case DiskVerdictKind::kNoMatch:
      return "no match";
    case DiskVerdictKind::kNever:
      return "never";
  }
  return "?";
}

InstallDiskChoice ChooseInstallDisk(const HardwareReport& hw, const InstallDiskRule& rule,
                                    const std::string& rewrite_disk) {
  InstallDiskChoice c;
  c.rule = rule;
  std::vector<size_t> candidates, holding, guarded_matches;
  for (size_t i = 0; i < hw.disks.size(); ++i) {
    const Disk& d = hw.disks[i];
    DiskVerdict v{d.name, DiskVerdictKind::kNoMatch, ""};
    std::string mismatch = RuleMismatch(d, rule);
    std::string never = NeverReason(d);
    if (!never.empty()) {
      v.kind = DiskVerdictKind::kNever;
      v.why = never;
      if (mismatch.empty()) guarded_matches.push_back(i);
    } else if (!mismatch.empty()) {
      v.why = mismatch;
    } else if (std::string holds = Holds(d); !holds.empty() && !rule.wipe && d.name != rewrite_disk) {
      v.kind = DiskVerdictKind::kHoldsData;
      v.why = MatchText(rule) + " but holds " + holds + "; add wipe = true to the rule to erase it";
      holding.push_back(i);
    } else {
      v.kind = DiskVerdictKind::kCandidate;
      v.why = MatchText(rule) + (holds.empty() ? ", empty"
                                 : d.name == rewrite_disk
                                     ? ", holds " + holds + " (the unfinished write of an earlier install)"
                                     : ", holds " + holds + " (wipe = true erases it)");
      candidates.push_back(i);
    }
    c.verdicts.push_back(std::move(v));
  }
  const std::string rule_text = rule.Describe() + " (" + (rule.origin.empty() ? "default" : rule.origin) + ")";
  auto names = [&](const std::vector<size_t>& idx) {
    std::vector<std::string> out;
    for (size_t i : idx) out.push_back(hw.disks[i].name);
    return Join(out, ", ");
  };
  if (candidates.size() > 1 && rule.IsDefault()) {
    // The default takes the smallest; a tie in size is ambiguous.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [&](size_t a, size_t b) { return *hw.disks[a].size_bytes < *hw.disks[b].size_bytes; });
    uint64_t smallest = *hw.disks[candidates[0]].size_bytes;
    std::erase_if(candidates, [&](size_t i) { return *hw.disks[i].size_bytes != smallest; });
    std::sort(candidates.begin(), candidates.end());
  }
  if (candidates.size() == 1) {
    size_t i = candidates[0];
    const Disk& d = hw.disks[i];
    c.disk = d.name;
    c.verdicts[i].kind = DiskVerdictKind::kChosen;
    c.reason =
        d.name + " " +
        (rule.IsDefault() ? "is the smallest disk that fits the default rule: " : "is the only disk that matches ") +
        rule_text;
    if (std::string holds = Holds(d); !holds.empty()) c.erases = d.name + ": " + holds;
    return c;
  }
  if (candidates.size() > 1) {
    c.refusal = "the install-disk rule " + rule_text + " matches " + std::to_string(candidates.size()) + " disks (" +
                names(candidates) + ")" +
                (rule.IsDefault() ? " of the smallest size, " + FormatBytes(*hw.disks[candidates[0]].size_bytes) : "") +
                "; it must match exactly one: name it by serial, wwn or by_path";
  } else if (!holding.empty()) {
    c.refusal = "the install-disk rule " + rule_text + " matches only " + names(holding) + ", which hold" +
                (holding.size() == 1 ? "s" : "") +
                " a partition table or file system; nothing is erased unless the rule says wipe = true";
  } else if (!guarded_matches.empty()) {
    c.refusal = "the install-disk rule " + rule_text + " matches only " + names(guarded_matches) + ", which " +
                c.verdicts[guarded_matches[0]].why;
  } else {
    c.refusal = "no disk matches the install-disk rule " + rule_text;
  }
  return c;
}

std::optional<InstallDiskRule> EffectiveInstallDiskRule(const FleetHost* host, const HardwareProfile* profile) {
  if (host && host->install_disk) return host->install_disk;
  if (profile && profile->install_disk) return profile->install_disk;
  return std::nullopt;
}

std::string DiskListing(const HardwareReport& hw, const InstallDiskChoice& choice, std::string_view indent) {
  std::string out;
  std::string in(indent);
  for (size_t i = 0; i < hw.disks.size(); ++i) {
    const Disk& d = hw.disks[i];
    auto val = [](const Probed<std::string>& p) { return p.ok() ? "\"" + std::string(Trim(*p)) + "\"" : "unknown"; };
    out += in + d.name + "  " + (d.size_bytes.ok() ? FormatBytes(*d.size_bytes) : "size unknown") + "  " + Media(d) +
           "  " + d.transport + (d.removable.value_or(false) ? " removable" : "") + "  model " + val(d.model) +
           "  serial " + val(d.serial) + (d.wwn.ok() ? "  wwn " + val(d.wwn) : "") +
           (d.by_path.empty() ? "" : "  by-path " + d.by_path[0]) + "\n";
    std::string holds = Holds(d);
    out += in + "  holds: " + (holds.empty() ? "nothing (no partition table, no file system)" : holds) + "\n";
    if (i < choice.verdicts.size()) {
      const DiskVerdict& v = choice.verdicts[i];
      out += in + "  " + std::string(VerdictName(v.kind)) + ": " + v.why + "\n";
    }
  }
  if (hw.disks.empty()) out += in + "(no disks found)\n";
  return out;
}

Error InstallDiskRefusal(const HardwareReport& hw, const InstallDiskChoice& choice) {
  return Error::HostUnsuitable(choice.refusal + ". Disks on this host:\n" + DiskListing(hw, choice, "  "));
}

nlohmann::json InstallDiskJson(const InstallDiskChoice& c) {
  nlohmann::json disks = nlohmann::json::array();
  for (const DiskVerdict& v : c.verdicts)
    disks.push_back({{"name", v.disk}, {"verdict", std::string(VerdictName(v.kind))}, {"why", v.why}});
  return {{"disk", c.disk},
          {"reason", c.reason},
          {"refusal", c.refusal},
          {"rule", c.rule.Describe()},
          {"rule_origin", c.rule.origin.empty() ? "default" : c.rule.origin},
          {"wipe", c.rule.wipe},
          {"erases", c.erases},
          {"disks", disks}};
}

}  // namespace slipway::installer
