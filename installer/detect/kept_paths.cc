// Where persistent paths live, from mountinfo.
#include "installer/detect/kept_paths.h"

#include "common/strings.h"
#include "installer/detect/mountinfo.h"

namespace slipway::installer {

namespace {
struct KeptSpec {
  const char* what;
  const char* path;
};
constexpr KeptSpec kKeptPaths[] = {
    {"installer state", "/var/lib/slipway"},
    {"vTPM state", "/var/lib/libvirt/swtpm"},
    {"libvirt definitions", "/etc/libvirt"},
};
}  // namespace

std::string KeptPath::Describe() const {
  std::string in = folder.empty() || folder == "/" ? "" : ", folder " + folder;
  switch (on) {
    case KeptOn::kCsv:
      return "on CSV " + csv + in;
    case KeptOn::kDevice:
      return "on " + source + " (" + fs_type + ")" + in;
    case KeptOn::kRam:
      return "in RAM (" + fs_type + "): lost at reboot";
    case KeptOn::kUnknown:
      break;
  }
  return "unknown (no mount holds it)";
}

std::vector<KeptPath> WhereKept(const Sysroot& s, const std::vector<Csv>& csvs) {
  auto text = s.Read("/proc/self/mountinfo");
  std::vector<MountEntry> mounts = text ? ParseMountInfo(*text) : std::vector<MountEntry>{};
  std::vector<KeptPath> out;
  for (const KeptSpec& spec : kKeptPaths) {
    KeptPath k;
    k.what = spec.what;
    k.path = spec.path;
    const MountEntry* m = FindMount(mounts, spec.path);
    if (m == nullptr) {
      out.push_back(k);
      continue;
    }
    k.source = m->source;
    k.fs_type = m->fs_type;
    // The folder within the file system: the mount's own root plus what
    // lies below its mount point.
    std::string below = std::string(spec.path).substr(m->mount_point == "/" ? 0 : m->mount_point.size());
    k.folder = (m->root == "/" ? "" : m->root) + below;
    if (k.folder.empty()) k.folder = "/";
    bool live_overlay = m->fs_type == "overlay" && m->super_options.find("upperdir=/run/rw/") != std::string::npos;
    if (m->fs_type == "tmpfs" || m->fs_type == "ramfs" || live_overlay) {
      k.on = KeptOn::kRam;
    } else {
      k.on = KeptOn::kDevice;
      // A CSV is the same file system (device) as the mount: its folder is
      // then relative to the CSV's own mount root.
      for (const Csv& c : csvs) {
        const MountEntry* cm = FindMount(mounts, c.path);
        if (cm == nullptr || cm->dev != m->dev) continue;
        std::string croot = cm->root == "/" ? "" : cm->root;
        if (!croot.empty() && !StartsWith(k.folder, croot + "/") && k.folder != croot) continue;
        k.on = KeptOn::kCsv;
        k.csv = c.path;
        k.folder = k.folder.substr(croot.size());
        if (k.folder.empty()) k.folder = "/";
        break;
      }
    }
    out.push_back(k);
  }
  return out;
}

}  // namespace slipway::installer
