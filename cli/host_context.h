// Shared plumbing of the commands that look at a host (detect, match,
// preflight, plan): the --sysroot/--csv/--fs-usage/--hardware flags, and
// turning an Error into a message and an exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/args.h"
#include "installer/detect/hardware_report.h"

namespace slipway::cli {

/// `extra` plus --help, --sysroot, --csv, --fs-usage and --hardware.
std::vector<FlagSpec> HostFlags(std::vector<FlagSpec> extra);

struct Host {
  installer::HardwareReport report;
  std::string origin;  ///< "sysroot /" or "report x.json"
};

/// Detects (from --sysroot, default /) or reads a saved report (--hardware).
Result<Host> LoadHost(const Args& args);

/// Every host named by repeatable --hardware and --sysroot flags (default:
/// this machine). --fs-usage pairs with --sysroot by position, or one file
/// serves all.
Result<std::vector<Host>> LoadHosts(const Args& args);

/// Prints "slipway CMD: error: ..." and returns the error's exit code.
int ReportError(std::string_view command, const Error& e, Io io);
/// Prints the usage error and the help text; returns 2.
int UsageError(std::string_view command, const Error& e, std::string_view help, Io io);

}  // namespace slipway::cli

namespace slipway::installer {
struct Catalog;
}

namespace slipway::cli {

/// Loads --profiles DIR (default: the data dir's profiles/) and the firmware
/// catalogue. On any error prints every diagnostic and returns nothing.
std::optional<installer::Catalog> LoadCatalogOrReport(const Args& args, std::string_view command, Io io);

}  // namespace slipway::cli
