// Hardware detection from sysfs, procfs, DMI, efivars and mountinfo.
#include "installer/detect/detect.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/atomic_file.h"
#include "common/strings.h"
#include "installer/detect/mountinfo.h"

namespace slipway::installer {

namespace {

constexpr const char* kSecureBootVar = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c";

template <typename T>
Probed<T> Fail(const Error& e) {
  return Probed<T>::Unknown(e.ToString());
}

Probed<std::string> ReadString(const Sysroot& s, const std::string& path) {
  auto r = s.ReadLine(path);
  if (!r) return Fail<std::string>(r.error());
  if (r->empty()) return Probed<std::string>::Unknown(path + " is empty");
  return Probed<std::string>::Known(*r);
}

std::optional<int64_t> ToInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Probed<int64_t> ReadInt(const Sysroot& s, const std::string& path) {
  auto r = s.ReadLine(path);
  if (!r) return Fail<int64_t>(r.error());
  auto v = ToInt(*r);
  if (!v) return Probed<int64_t>::Unknown(path + " holds '" + *r + "', not a number");
  return Probed<int64_t>::Known(*v);
}

Probed<bool> ReadFlag(const Sysroot& s, const std::string& path) {
  auto v = ReadInt(s, path);
  if (!v.ok()) return Probed<bool>::Unknown(v.unknown);
  return Probed<bool>::Known(*v != 0);
}

std::string Basename(std::string_view p) {
  size_t slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

// Lines "key<TAB>: value" of /proc/cpuinfo or "Key: value kB" of meminfo.
std::vector<std::pair<std::string, std::string>> KeyValues(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& line : Split(text, '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    out.emplace_back(std::string(Trim(std::string_view(line).substr(0, colon))),
                     std::string(Trim(std::string_view(line).substr(colon + 1))));
  }
  return out;
}

int64_t CountCpuList(std::string_view list) {
  int64_t n = 0;
  for (const std::string& part : Split(list, ',')) {
    auto range = Split(part, '-');
    auto a = ToInt(Trim(range[0]));
    if (!a) continue;
    auto b = range.size() > 1 ? ToInt(Trim(range[1])) : a;
    if (b) n += *b - *a + 1;
  }
  return n;
}

CpuInfo DetectCpu(const Sysroot& s) {
  CpuInfo cpu;
  auto text = s.Read("/proc/cpuinfo");
  std::string flags;
  if (text) {
    for (const auto& [k, v] : KeyValues(*text)) {
      if (k == "model name" && !cpu.model.ok()) cpu.model = Probed<std::string>::Known(v);
      if (k == "flags" && flags.empty()) flags = " " + v + " ";
    }
    if (!cpu.model.ok()) cpu.model = Probed<std::string>::Unknown("/proc/cpuinfo has no 'model name' line");
    if (flags.empty()) {
      cpu.virtualization = Probed<bool>::Unknown("/proc/cpuinfo has no 'flags' line");
    } else {
      for (const char* f : {"vmx", "svm"}) {
        if (flags.find(std::string(" ") + f + " ") != std::string::npos) cpu.virtualization_flag = f;
      }
      cpu.virtualization = Probed<bool>::Known(!cpu.virtualization_flag.empty());
    }
  } else {
    cpu.model = Fail<std::string>(text.error());
    cpu.virtualization = Fail<bool>(text.error());
  }

  // Topology: one (package, core) pair per physical core.
  auto online = s.ReadLine("/sys/devices/system/cpu/online");
  if (online) {
    cpu.threads = Probed<int64_t>::Known(CountCpuList(*online));
  } else {
    cpu.threads = Fail<int64_t>(online.error());
  }
  std::set<std::pair<int64_t, int64_t>> cores;
  std::set<int64_t> packages;
  std::string topology_error;
  for (const std::string& name : s.List("/sys/devices/system/cpu")) {
    if (name.size() < 4 || name.substr(0, 3) != "cpu" || !ToInt(name.substr(3))) continue;
    std::string base = "/sys/devices/system/cpu/" + name + "/topology/";
    auto pkg = ReadInt(s, base + "physical_package_id");
    auto core = ReadInt(s, base + "core_id");
    if (!pkg.ok() || !core.ok()) {
      if (topology_error.empty()) topology_error = pkg.ok() ? core.unknown : pkg.unknown;
      continue;
    }
    packages.insert(*pkg);
    cores.insert({*pkg, *core});
  }
  if (!cores.empty()) {
    cpu.sockets = Probed<int64_t>::Known(static_cast<int64_t>(packages.size()));
    cpu.cores = Probed<int64_t>::Known(static_cast<int64_t>(cores.size()));
  } else {
    std::string why = topology_error.empty() ? "no /sys/devices/system/cpu/cpuN/topology found" : topology_error;
    cpu.sockets = Probed<int64_t>::Unknown(why);
    cpu.cores = Probed<int64_t>::Unknown(why);
  }
  cpu.kvm_device = s.Exists("/dev/kvm");
  cpu.kvm_note = cpu.kvm_device ? "/dev/kvm exists; that alone does not prove that guests boot (a probe boot does)"
                                : "/dev/kvm is missing; VMs would run under TCG emulation";
  return cpu;
}

Probed<uint64_t> DetectMemory(const Sysroot& s) {
  auto text = s.Read("/proc/meminfo");
  if (!text) return Fail<uint64_t>(text.error());
  for (const auto& [k, v] : KeyValues(*text)) {
    if (k != "MemTotal") continue;
    auto parts = Split(v, ' ');
    auto kib = ToInt(parts[0]);
    if (kib && parts.size() == 2 && parts[1] == "kB")
      return Probed<uint64_t>::Known(static_cast<uint64_t>(*kib) * 1024);
    return Probed<uint64_t>::Unknown("/proc/meminfo MemTotal is '" + v + "', not 'N kB'");
  }
  return Probed<uint64_t>::Unknown("/proc/meminfo has no MemTotal line");
}

std::string Transport(const std::string& name, const std::string& resolved) {
  if (StartsWith(name, "nvme")) return "nvme";
  if (StartsWith(name, "sr")) return "optical";
  if (resolved.find("/usb") != std::string::npos) return "usb";
  if (resolved.find("/virtio") != std::string::npos) return "virtio";
  if (resolved.find("/devices/virtual/") != std::string::npos) return "virtual";
  if (resolved.find("/ata") != std::string::npos || resolved.find("/host") != std::string::npos) return "sata/scsi";
  return "unknown";
}

Probed<std::string> DiskSerial(const Sysroot& s, const std::string& base, const std::string& transport) {
  for (const char* rel : {"/serial", "/device/serial"}) {
    auto v = ReadString(s, base + rel);
    if (v.ok()) return v;
  }
  // SCSI/SATA: VPD page 0x80 (4-byte header, then the serial).
  if (auto vpd = s.ReadBinary(base + "/device/vpd_pg80"); vpd && vpd->size() > 4) {
    std::string serial(Trim(std::string_view(*vpd).substr(4)));
    if (!serial.empty()) return Probed<std::string>::Known(serial);
  }
  if (transport == "virtio") return Probed<std::string>::Unknown("the virtio disk was given no serial");
  return Probed<std::string>::Unknown("no serial in " + base + "/serial, device/serial or device/vpd_pg80");
}

bool IsPciAddress(std::string_view v) {  // DDDD:BB:DD.F
  if (v.size() != 12 || v[4] != ':' || v[7] != ':' || v[10] != '.') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11}) {
    if (!std::isxdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  return true;
}

// The /dev/disk/by-path names udev's path_id (systemd 252) gives a disk,
// derived from its sysfs path, for the buses whose names need only that path
// and one attribute. The live ISO runs no udev, so it has no by-path links.
//   virtio-blk: pci-ADDR, and virtio-pci-ADDR (60-persistent-storage.rules)
//   NVMe:       pci-ADDR-nvme-NSID (the namespace's nsid attribute)
//   ATA:        pci-ADDR-ata-PORT.TARGET, and the older pci-ADDR-ata-PORT
//               (PORT: ata_port/ataN/port_no; TARGET from H:C:T:L)
// ADDR is the PCI function nearest the disk (path_id skips the bridges above
// it). Other buses (SCSI host numbering, USB, port multipliers) need udev's
// links: nothing is derived for them, so a by_path rule cannot match a
// wrong disk by a guessed name.
std::vector<std::string> PathIdFromSysfs(const Sysroot& s, const std::string& name, const std::string& resolved) {
  std::vector<std::string> parts = Split(resolved, '/');
  size_t pci = parts.size();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (IsPciAddress(parts[i])) pci = i;
  }
  if (pci + 1 >= parts.size()) return {};
  const std::string at = "pci-" + parts[pci];
  const std::string& next = parts[pci + 1];
  if (StartsWith(next, "virtio") && pci + 3 < parts.size() && parts[pci + 2] == "block") {
    return {at, "virtio-" + at};
  }
  if (next == "nvme") {
    auto nsid = s.ReadLine("/sys/block/" + name + "/nsid");
    if (nsid.ok() && !nsid->empty() && nsid->find_first_not_of("0123456789") == std::string::npos) {
      return {at + "-nvme-" + *nsid};
    }
    return {};
  }
  if (StartsWith(next, "ata") && next.size() > 3 && next.find_first_not_of("0123456789", 3) == std::string::npos) {
    std::string dir;
    for (size_t i = 1; i <= pci + 1; ++i) dir += "/" + parts[i];
    auto port = s.ReadLine(dir + "/ata_port/" + next + "/port_no");
    // .../ataN/hostH/targetH:C:T/H:C:T:L/block/NAME
    if (!port.ok() || pci + 4 >= parts.size()) return {};
    std::vector<std::string> hctl = Split(parts[pci + 4], ':');
    if (hctl.size() != 4 || hctl[1] != "0") return {};  // a port multiplier's bus: udev names it otherwise
    return {at + "-ata-" + *port + "." + hctl[2], at + "-ata-" + *port};
  }
  return {};
}

Disk DetectDisk(const Sysroot& s, const std::string& name) {
  Disk d;
  d.name = name;
  std::string base = "/sys/block/" + name;
  d.dev = s.ReadLine(base + "/dev").ok() ? *s.ReadLine(base + "/dev") : "";
  auto sectors = ReadInt(s, base + "/size");
  d.size_bytes = sectors.ok() ? Probed<uint64_t>::Known(static_cast<uint64_t>(*sectors) * 512)
                              : Probed<uint64_t>::Unknown(sectors.unknown);
  d.logical_sector_bytes = ReadInt(s, base + "/queue/logical_block_size");
  d.physical_sector_bytes = ReadInt(s, base + "/queue/physical_block_size");
  d.rotational = ReadFlag(s, base + "/queue/rotational");
  d.removable = ReadFlag(s, base + "/removable");
  d.read_only = ReadFlag(s, base + "/ro").value_or(false);
  const std::string resolved = s.Resolve(base).value_or("");  // the disk's device path in sysfs
  d.transport = Transport(name, resolved);
  d.model = ReadString(s, base + "/device/model");
  if (!d.model.ok() && d.transport == "virtio") d.model = Probed<std::string>::Unknown("virtio disks report no model");
  d.serial = DiskSerial(s, base, d.transport);
  d.wwn = ReadString(s, base + "/wwid");
  if (!d.wwn.ok()) d.wwn = ReadString(s, base + "/device/wwid");
  if (!d.wwn.ok()) d.wwn = Probed<std::string>::Unknown("no WWN (neither wwid nor device/wwid)");
  for (const std::string& entry : s.List(base)) {
    if (!s.Exists(base + "/" + entry + "/partition")) continue;
    Partition p;
    p.name = entry;
    p.dev = s.ReadLine(base + "/" + entry + "/dev").ok() ? *s.ReadLine(base + "/" + entry + "/dev") : "";
    auto psectors = ReadInt(s, base + "/" + entry + "/size");
    p.size_bytes = psectors.ok() ? Probed<uint64_t>::Known(static_cast<uint64_t>(*psectors) * 512)
                                 : Probed<uint64_t>::Unknown(psectors.unknown);
    d.partitions.push_back(std::move(p));
  }
  for (const std::string& link : s.List("/dev/disk/by-path")) {
    auto target = s.ReadLink("/dev/disk/by-path/" + link);
    if (target && std::filesystem::path(*target).filename() == name) d.by_path.push_back(link);
  }
  // No udev links (the live ISO): the names udev would give, where sure.
  if (d.by_path.empty()) d.by_path = PathIdFromSysfs(s, name, resolved);
  auto contents = ProbeDiskContents(s.Path("/dev/" + name), name, "/dev/" + name);
  d.contents =
      contents ? Probed<DiskContents>::Known(*contents) : Probed<DiskContents>::Unknown(contents.error().message());
  return d;
}

// Marks the disk whose device (or a partition of it) backs the boot medium:
// a live medium mount if there is one, else the root file system.
void MarkBootMedium(const std::vector<MountEntry>& mounts, std::vector<Disk>* disks) {
  static const char* kMediumMounts[] = {"/run/live/medium",
                                        "/run/initramfs/live",
                                        "/lib/live/mount/medium",
                                        "/cdrom",
                                        "/run/slipway/medium",
                                        "/",
                                        "/boot/efi",
                                        "/boot"};
  for (const char* mp : kMediumMounts) {
    const MountEntry* m = nullptr;
    for (const MountEntry& e : mounts) {
      if (e.mount_point == mp) m = &e;
    }
    if (!m) continue;
    for (Disk& d : *disks) {
      std::string via;
      if (d.dev == m->dev) via = d.name;
      for (const Partition& p : d.partitions) {
        if (p.dev == m->dev) via = p.name;
      }
      if (!via.empty()) {
        d.boot_medium = true;
        d.boot_reason = std::string(mp) + " is mounted from " + via;
        return;
      }
    }
  }
}

// What keeps a disk busy: its (or a partition's) mounts, and the kernel's
// holders (device-mapper, md, bcache) of it or its partitions.
void MarkInUse(const Sysroot& s, const std::vector<MountEntry>& mounts, Disk* d) {
  std::map<std::string, std::string> devs = {{d->dev, d->name}};
  for (const Partition& p : d->partitions) devs[p.dev] = p.name;
  std::set<std::string> seen;
  for (const MountEntry& m : mounts) {
    auto it = devs.find(m.dev);
    if (it == devs.end() || it->first.empty()) continue;
    std::string why = m.mount_point + " is mounted from " + it->second;
    if (seen.insert(why).second) d->in_use.push_back(why);
  }
  for (const auto& [dev, name] : devs) {
    std::string base = "/sys/block/" + d->name + (name == d->name ? "" : "/" + name);
    for (const std::string& holder : s.List(base + "/holders")) d->in_use.push_back(name + " is held by " + holder);
  }
}

std::vector<Disk> DetectDisks(const Sysroot& s, const std::vector<MountEntry>& mounts) {
  std::vector<Disk> disks;
  for (const std::string& name : s.List("/sys/block")) {
    if (StartsWith(name, "loop") || StartsWith(name, "ram") || StartsWith(name, "zram")) continue;
    disks.push_back(DetectDisk(s, name));
    MarkInUse(s, mounts, &disks.back());
  }
  MarkBootMedium(mounts, &disks);
  return disks;
}

std::vector<Nic> DetectNics(const Sysroot& s) {
  std::vector<Nic> nics;
  for (const std::string& name : s.List("/sys/class/net")) {
    std::string base = "/sys/class/net/" + name;
    if (!s.Exists(base + "/address")) continue;  // bonding_masters and other files
    Nic n;
    n.name = name;
    n.physical = s.Exists(base + "/device");
    n.mac = ReadString(s, base + "/address");
    if (auto drv = s.ReadLink(base + "/device/driver")) {
      n.driver = Probed<std::string>::Known(Basename(*drv));
    } else {
      n.driver = Probed<std::string>::Unknown(n.physical ? "no driver bound to " + base + "/device"
                                                         : "virtual interface, no device driver");
    }
    n.operstate = s.ReadLine(base + "/operstate").ok() ? *s.ReadLine(base + "/operstate") : "unknown";
    auto carrier = ReadFlag(s, base + "/carrier");
    n.link = carrier.ok()
                 ? carrier
                 : Probed<bool>::Unknown("carrier not readable (interface is " + n.operstate + "): " + carrier.unknown);
    auto speed = ReadInt(s, base + "/speed");
    if (speed.ok() && *speed > 0) {
      n.speed_mbps = speed;
    } else if (speed.ok()) {
      n.speed_mbps = Probed<int64_t>::Unknown("the driver reports no speed (" + std::to_string(*speed) + ")");
    } else {
      n.speed_mbps = Probed<int64_t>::Unknown(speed.unknown);
    }
    nics.push_back(std::move(n));
  }
  return nics;
}

std::vector<Gpu> DetectGpus(const Sysroot& s) {
  std::vector<Gpu> gpus;
  for (const std::string& addr : s.List("/sys/bus/pci/devices")) {
    std::string base = "/sys/bus/pci/devices/" + addr;
    auto cls = s.ReadLine(base + "/class");
    if (!cls || !StartsWith(*cls, "0x03")) continue;
    Gpu g;
    g.pci_address = addr;
    g.vendor_id = s.ReadLine(base + "/vendor").ok() ? *s.ReadLine(base + "/vendor") : "";
    g.device_id = s.ReadLine(base + "/device").ok() ? *s.ReadLine(base + "/device") : "";
    auto drv = s.ReadLink(base + "/driver");
    g.driver = drv ? Basename(*drv) : "";
    gpus.push_back(std::move(g));
  }
  return gpus;
}

FirmwareInfo DetectFirmware(const Sysroot& s) {
  FirmwareInfo f;
  bool uefi = s.Exists("/sys/firmware/efi");
  f.boot_mode = uefi ? "uefi" : "bios";
  if (!uefi) {
    f.secure_boot = Probed<bool>::Known(false);
  } else if (auto var = s.ReadBinary(kSecureBootVar); var && var->size() >= 5) {
    // efivarfs: 4 bytes of attributes, then the value byte.
    f.secure_boot = Probed<bool>::Known((*var)[4] == 1);
  } else {
    f.secure_boot = Probed<bool>::Unknown(var ? std::string("SecureBoot variable is too short")
                                              : "cannot read the SecureBoot variable (is efivarfs mounted?): " +
                                                    var.error().ToString());
  }
  auto tpms = s.List("/sys/class/tpm");
  f.tpm_present = !tpms.empty();
  if (!f.tpm_present) {
    f.tpm_version = Probed<std::string>::Unknown("no TPM (/sys/class/tpm is empty or missing)");
  } else {
    auto major = ReadInt(s, "/sys/class/tpm/" + tpms[0] + "/tpm_version_major");
    if (major.ok()) {
      f.tpm_version = Probed<std::string>::Known(*major == 2 ? "2.0" : *major == 1 ? "1.2" : std::to_string(*major));
    } else {
      f.tpm_version = Probed<std::string>::Unknown(major.unknown);
    }
  }
  return f;
}

Smbios DetectSmbios(const Sysroot& s) {
  Smbios m;
  if (!s.Exists("/sys/class/dmi/id")) {
    std::string why = "no SMBIOS data: /sys/class/dmi/id is missing";
    m.vendor = m.product = m.serial = m.uuid = Probed<std::string>::Unknown(why);
    return m;
  }
  m.vendor = ReadString(s, "/sys/class/dmi/id/sys_vendor");
  m.product = ReadString(s, "/sys/class/dmi/id/product_name");
  m.serial = ReadString(s, "/sys/class/dmi/id/product_serial");
  m.uuid = ReadString(s, "/sys/class/dmi/id/product_uuid");
  if (m.uuid.ok()) {
    std::string u = *m.uuid;
    std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::tolower(c); });
    m.uuid = Probed<std::string>::Known(u);
  }
  return m;
}

std::string StableId(const std::string& a, const std::string& b, const std::string& c) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (const std::string* s : {&a, &b, &c}) {
    for (unsigned char ch : *s) {
      h ^= ch;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "csv-%012llx", static_cast<unsigned long long>(h & 0xffffffffffffull));
  return buf;
}

Csv MakeCsv(const Sysroot& s, const FsUsageSource& usage, const MountEntry& m, const std::string& path,
            const std::string& origin) {
  Csv c;
  c.path = path;
  c.fs_type = m.fs_type;
  c.source = m.source;
  std::string rel = path.substr(std::min(path.size(), m.mount_point == "/" ? 0 : m.mount_point.size()));
  c.id = StableId(m.fs_type, m.source, m.root + rel);
  c.origin = origin;
  c.writable = !m.ReadOnly();
  auto u = usage.Usage(s, path);
  if (u) {
    c.size_bytes = Probed<uint64_t>::Known(u->size_bytes);
    c.free_bytes = Probed<uint64_t>::Known(u->free_bytes);
  } else {
    c.size_bytes = c.free_bytes = Probed<uint64_t>::Unknown(u.error().ToString());
  }
  return c;
}

}  // namespace

const std::vector<std::string>& SharedFsTypes() {
  static const std::vector<std::string> kTypes = {"ocfs2",  "gfs2", "nfs",       "nfs4",
                                                  "cephfs", "ceph", "glusterfs", "fuse.glusterfs"};
  return kTypes;
}

Result<FsUsage> StatvfsUsage::Usage(const Sysroot& sysroot, const std::string& path) const {
  struct statvfs st {};
  std::string host = sysroot.Path(path);
  if (::statvfs(host.c_str(), &st) != 0) return Error::Errno("statvfs", path, errno);
  return FsUsage{static_cast<uint64_t>(st.f_blocks) * st.f_frsize, static_cast<uint64_t>(st.f_bavail) * st.f_frsize};
}

Result<std::unique_ptr<RecordedFsUsage>> RecordedFsUsage::Load(const std::string& json_file) {
  auto text = ReadFile(json_file);
  if (!text) return std::move(text).error();
  auto out = std::make_unique<RecordedFsUsage>();
  out->file_ = json_file;
  try {
    const nlohmann::json doc = nlohmann::json::parse(*text);
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      out->usage_[it.key()] = FsUsage{it->at("size_bytes").get<uint64_t>(), it->at("free_bytes").get<uint64_t>()};
    }
  } catch (const nlohmann::json::exception& e) {
    return Error::Input(json_file + ": not a file-system usage record: " + e.what());
  }
  return out;
}

Result<FsUsage> RecordedFsUsage::Usage(const Sysroot&, const std::string& path) const {
  auto it = usage_.find(path);
  if (it == usage_.end()) return Error::Runtime("no recorded usage for " + path + " in " + file_);
  return it->second;
}

Status AddNamedCsvs(const Sysroot& s, const FsUsageSource& usage, const std::vector<std::string>& paths,
                    HardwareReport* report) {
  auto mountinfo = s.Read("/proc/self/mountinfo");
  std::vector<MountEntry> mounts = mountinfo ? ParseMountInfo(*mountinfo) : std::vector<MountEntry>{};
  for (const std::string& path : paths) {
    if (path.empty() || path[0] != '/') return Error::Input("CSV path '" + path + "' must be absolute");
    if (!s.Exists(path)) {
      return Error::Input("CSV path '" + path + "' does not exist" +
                          (s.root() == "/" ? std::string() : " under sysroot " + s.root()) +
                          "; mount the shared volume there or fix the path");
    }
    bool known = std::any_of(report->csvs.begin(), report->csvs.end(), [&](const Csv& c) { return c.path == path; });
    if (known) continue;
    const MountEntry* m = FindMount(mounts, path);
    MountEntry fallback{"", "/", "/", "rw", "unknown", "unknown", ""};
    report->csvs.push_back(MakeCsv(s, usage, m ? *m : fallback, path, "named"));
  }
  return Ok();
}

Result<HardwareReport> Detect(const Sysroot& s, const FsUsageSource& usage, const DetectOptions& options) {
  HardwareReport r;
  r.sysroot = s.root();
  r.cpu = DetectCpu(s);
  r.memory_bytes = DetectMemory(s);
  auto mountinfo = s.Read("/proc/self/mountinfo");
  std::vector<MountEntry> mounts = mountinfo ? ParseMountInfo(*mountinfo) : std::vector<MountEntry>{};
  r.disks = DetectDisks(s, mounts);
  r.nics = DetectNics(s);
  r.gpus = DetectGpus(s);
  r.firmware = DetectFirmware(s);
  r.smbios = DetectSmbios(s);
  // The last mount at a mount point hides earlier ones; keep only it.
  std::map<std::string, const MountEntry*> visible;
  for (const MountEntry& m : mounts) visible[m.mount_point] = &m;
  const auto& shared = SharedFsTypes();
  for (const auto& [mp, m] : visible) {
    bool under_cs = StartsWith(mp, "/ClusterStorage/") && mp.size() > std::string("/ClusterStorage/").size();
    bool shared_fs = std::find(shared.begin(), shared.end(), m->fs_type) != shared.end();
    if (under_cs || shared_fs) r.csvs.push_back(MakeCsv(s, usage, *m, mp, under_cs ? "ClusterStorage" : "shared-fs"));
  }
  if (auto st = AddNamedCsvs(s, usage, options.extra_csvs, &r); !st) return std::move(st).error();
  // A disk that holds a CSV is shared storage, not a local data disk.
  for (const Csv& c : r.csvs) {
    auto it = visible.find(c.path);
    if (it == visible.end()) continue;
    for (Disk& d : r.disks) {
      bool backs = d.dev == it->second->dev;
      for (const Partition& p : d.partitions) backs = backs || p.dev == it->second->dev;
      if (backs && d.csv.empty()) d.csv = c.path;
    }
  }
  return r;
}

}  // namespace slipway::installer
