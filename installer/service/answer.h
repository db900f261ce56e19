// Unattended rollout: finding the fleet answer file, and matching the host
// it runs on to one [[host]] entry (by any NIC's MAC, the SMBIOS serial or
// the SMBIOS UUID), with [defaults] applied under it.
#pragma once

#include <string>

#include "common/error.h"
#include "installer/detect/hardware_report.h"
#include "installer/detect/sysroot.h"
#include "installer/model/profiles.h"
#include "installer/plan/planner.h"

namespace slipway::installer {

struct AnswerFile {
  std::string text;
  std::string origin;  ///< "kernel command line slipway.answer=/x", "boot medium /cdrom/slipway/answer.toml", ...
  std::string path;    ///< for diagnostics
};

/// Looks, in order, for: the kernel command line `slipway.answer=PATH`
/// (the sysroot's /proc/cmdline; PATH read under the sysroot);
/// /slipway/answer.toml on the mounted boot medium; a file system labelled
/// SLIPWAY (the sysroot's /dev/disk/by-label/SLIPWAY; ISO9660 read with
/// libarchive, FAT with mtools, never mounted); then `explicit_path`.
/// The first found wins. Errors only when a named file cannot be read;
/// "nothing found" is an empty origin.
Result<AnswerFile> FindAnswerFile(const Sysroot& sysroot, const std::string& explicit_path);

struct ImagesDir {
  std::string path;    ///< a host path, for the executor; empty: none found
  std::string origin;  ///< "--images /x", "boot medium /run/slipway/medium/slipway/images", "CSV ...", or why none
};

/// Where the node images (`slipway build image` output: NAME.qcow2, the
/// Windows kit) are: `explicit_dir` (--images), else `slipway/images` on the
/// mounted boot medium (the ISO's --images), else `slipway-images` on the
/// first CSV that has one (beside the pool folder `slipway/`, not in it). CSV paths are prefixed with `storage_root` as
/// the executor does. Never an error: without images the base volumes stay empty, and the executor says so.
ImagesDir FindImagesDir(const Sysroot& sysroot, const HardwareReport& hw, const std::string& explicit_dir,
                        const std::string& storage_root);

/// The host system for installs to a local disk (common/host_system.h):
/// `explicit_dir` (--host-system), else slipway/host on the mounted boot
/// medium when it holds the manifest; "" when there is none.
std::string FindHostSystemDir(const Sysroot& sysroot, const std::string& explicit_dir);

struct MatchedHost {
  FleetHost host;          ///< the entry with [defaults] applied under it
  std::string matched_by;  ///< "MAC 52:54:00:12:34:01", "serial X", "SMBIOS UUID Y"
};

/// Finds this host's entry. No match: kHostUnsuitable, listing the host's
/// MACs, serial and UUID so that an operator can add it. Two entries
/// matching (by different keys): kInput naming both.
Result<MatchedHost> MatchHost(const Fleet& fleet, const HardwareReport& report);

/// `host` with the fleet's defaults filled in where it sets nothing.
FleetHost ApplyDefaults(const FleetHost& defaults, const FleetHost& host);

}  // namespace slipway::installer

namespace slipway::installer {
struct Catalog;

/// The management cluster's network from the host's entry: the host's
/// subnet, its VIP, and the ten addresses after the VIP for the two
/// management VMs; in bridge mode, on the host bridge. The installer plans
/// with it, and `slipway plan --answer` does the same.
Result<ManagementNetwork> MgmtNetwork(const FleetHost& h);

/// For each fleet host: do its clusters fit the smallest machine its hardware
/// profile accepts (min cores, memory and CSV space)? Problems are reported
/// at the host's entry.
void CheckFleetFits(const Fleet& fleet, const Catalog& catalog, Diagnostics* diags);
}  // namespace slipway::installer
