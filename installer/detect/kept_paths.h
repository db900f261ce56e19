// Where the host keeps what must outlive a reboot: for each path (the
// installer's state, the vTPMs' state, libvirt's definitions), the file
// system that really holds it, read from mountinfo. The live system binds
// these folders at boot (installer/live/init); the report shows whether each
// bind took, instead of trusting that it did.
#pragma once

#include <string>
#include <vector>

#include "installer/detect/hardware_report.h"
#include "installer/detect/sysroot.h"

namespace slipway::installer {

enum class KeptOn { kCsv, kDevice, kRam, kUnknown };

struct KeptPath {
  std::string what;  ///< "installer state"
  std::string path;  ///< "/var/lib/slipway", inside the sysroot
  KeptOn on = KeptOn::kUnknown;
  std::string csv;     ///< with kCsv: the CSV's mount point
  std::string source;  ///< the mount's source ("/dev/vdd"), its fs type in fs_type
  std::string fs_type;
  std::string folder;  ///< the folder within that file system ("/slipway-hosts/<id>")
  bool SurvivesReboot() const { return on == KeptOn::kCsv || on == KeptOn::kDevice; }
  /// "on CSV /ClusterStorage/Volume1, folder /slipway-hosts/X", "on /dev/vda5
  /// (ext4), folder /etc/libvirt", "in RAM (tmpfs): lost at reboot".
  std::string Describe() const;
};

/// Where the installer's state (/var/lib/slipway), the vTPMs' state
/// (/var/lib/libvirt/swtpm) and libvirt's definitions (/etc/libvirt) live,
/// in that order, from the sysroot's /proc/self/mountinfo
/// and the CSVs detection found. A path on a tmpfs or ramfs, or on the live
/// system's root overlay (its upper layer in /run/rw, a tmpfs), is in RAM.
std::vector<KeptPath> WhereKept(const Sysroot& s, const std::vector<Csv>& csvs);

}  // namespace slipway::installer
