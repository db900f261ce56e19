// The install-disk section that `slipway plan` and `slipway preflight` print:
// which rule applies (from --answer's host entry, its [defaults], or the
// hardware profile), the disk it chooses and why, or the refusal with every
// disk listed. A dry run: nothing is written.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "cli/host_context.h"
#include "common/args.h"
#include "installer/model/profiles.h"

namespace slipway::cli {

struct InstallDiskView {
  std::string text;      ///< the section, ready to print
  nlohmann::json json;   ///< {"mode": "disk"|"live", ...InstallDiskJson}
  bool refused = false;  ///< a rule applies and matches no single writable disk
  std::string refusal;   ///< the refusal with the listing (exit 3)
  std::string summary;   ///< the refusal in one line
};

/// This host's entry in --answer FILE, with [defaults] applied; nullopt
/// without --answer. Errors: an unreadable or invalid answer file (exit 2),
/// no entry for this host (exit 3).
Result<std::optional<installer::FleetHost>> AnswerEntry(const Args& args, const Host& host);

/// Reads --answer FILE (if given), finds this host's entry in it, and
/// evaluates the install-disk rule that applies. Errors: an unreadable or
/// invalid answer file (exit 2), no entry for this host (exit 3).
Result<InstallDiskView> ViewInstallDisk(const Args& args, const Host& host, const installer::HardwareProfile* profile);

}  // namespace slipway::cli
