// Choosing the local disk the host system is installed to: pure logic over
// `slipway detect`'s disk inventory and an InstallDiskRule. It never touches
// a disk. The guard: never the boot medium, a CSV disk, a read-only,
// optical or virtual device, and never a disk holding a partition table or a
// file system unless the rule says wipe = true. The rule must match exactly
// one disk (the default rule picks the smallest); otherwise the choice is a
// refusal that lists every disk and why it was or was not a candidate.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "installer/detect/hardware_report.h"
#include "installer/model/profiles.h"

namespace slipway::installer {

/// What the guard and the rule made of one disk.
enum class DiskVerdictKind {
  kChosen,     ///< the install disk
  kCandidate,  ///< matches and may be written, but another was chosen (or a tie)
  kHoldsData,  ///< matches the rule but holds a partition table or file system (no wipe)
  kNoMatch,    ///< does not match the rule
  kNever,      ///< never written: boot medium, CSV, read-only, optical, virtual, unknown size
};

struct DiskVerdict {
  std::string disk;
  DiskVerdictKind kind = DiskVerdictKind::kNoMatch;
  std::string why;  ///< "matches serial = \"S1\"", "is the boot medium (/ is mounted from sda2)", ...
};

struct InstallDiskChoice {
  InstallDiskRule rule;
  std::string disk;                   ///< the chosen disk's name; "" when refused
  std::string reason;                 ///< why this disk (one line)
  std::string refusal;                ///< why no disk (one line); "" when chosen
  std::string erases;                 ///< what the install erases on the chosen disk ("" when it is empty)
  std::vector<DiskVerdict> verdicts;  ///< one per disk of the report, in its order

  bool ok() const { return !disk.empty(); }
};

/// Applies `rule` and the guard to every disk of `hw`. `rewrite_disk`
/// names a disk that an earlier install of this host began to write and did
/// not finish (STATE/host-disk.json): what it holds is that partial write,
/// so it stays a candidate without wipe = true. Everything else is guarded
/// as usual.
InstallDiskChoice ChooseInstallDisk(const HardwareReport& hw, const InstallDiskRule& rule,
                                    const std::string& rewrite_disk = "");

/// The rule that applies to a host: its own (or the answer file's
/// [defaults]), else its hardware profile's; nothing means a live install.
std::optional<InstallDiskRule> EffectiveInstallDiskRule(const FleetHost* host, const HardwareProfile* profile);

/// Every disk, one block each: size, media, transport, model, serial, WWN,
/// by-path, partitions and file-system labels, and the verdict.
std::string DiskListing(const HardwareReport& hw, const InstallDiskChoice& choice, std::string_view indent = "  ");

/// The refusal as an error (exit 3) whose message carries the listing.
Error InstallDiskRefusal(const HardwareReport& hw, const InstallDiskChoice& choice);

/// {"disk", "reason", "refusal", "rule", "rule_origin", "erases", "disks": [{name, verdict, why}]}
nlohmann::json InstallDiskJson(const InstallDiskChoice& choice);

std::string_view VerdictName(DiskVerdictKind k);

}  // namespace slipway::installer
