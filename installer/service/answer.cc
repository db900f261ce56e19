// Answer-file discovery and host matching.
#include "installer/service/answer.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/host_system.h"
#include "common/input_file.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "installer/detect/mountinfo.h"

namespace slipway::installer {

namespace {

// Reads /slipway/answer.toml or /answer.toml from an ISO9660 image with libarchive.
std::optional<std::string> FromIso(const std::string& image) {
  archive* a = archive_read_new();
  archive_read_support_format_iso9660(a);
  std::optional<std::string> out;
  if (archive_read_open_filename(a, image.c_str(), 1 << 16) == ARCHIVE_OK) {
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      std::string name = archive_entry_pathname(e);
      if (name == "slipway/answer.toml" || name == "answer.toml") {
        std::string body(static_cast<size_t>(archive_entry_size(e)), '\0');
        archive_read_data(a, body.data(), body.size());
        out = body;
        break;
      }
    }
  }
  archive_read_free(a);
  return out;
}

std::optional<std::string> FromFat(const std::string& image) {
  for (const char* path : {"::/slipway/answer.toml", "::/answer.toml"}) {
    RunOptions o;
    o.env = {{"MTOOLS_SKIP_CHECK", "1"}};
    o.allow_failure = true;
    auto r = RunCommand({"mtype", "-i", image, path}, o);
    if (r && r->exit_code == 0) return r->out;
  }
  return std::nullopt;
}

// Where live systems mount their boot medium (Debian live, casper, ours).
const std::vector<std::string>& MediumMountPoints() {
  static const std::vector<std::string> kMedia = {"/run/live/medium", "/run/initramfs/live", "/lib/live/mount/medium",
                                                  "/cdrom", "/run/slipway/medium"};
  return kMedia;
}

// The sysroot's mount points that are a boot medium, in mountinfo order.
std::vector<std::string> MountedMedia(const Sysroot& s) {
  std::vector<std::string> out;
  if (auto mi = s.Read("/proc/self/mountinfo")) {
    for (const MountEntry& m : ParseMountInfo(*mi)) {
      const auto& media = MediumMountPoints();
      if (std::find(media.begin(), media.end(), m.mount_point) != media.end()) out.push_back(m.mount_point);
    }
  }
  return out;
}

}  // namespace

ImagesDir FindImagesDir(const Sysroot& s, const HardwareReport& hw, const std::string& explicit_dir,
                        const std::string& storage_root) {
  std::error_code ec;
  if (!explicit_dir.empty()) return {explicit_dir, "--images " + explicit_dir};
  for (const std::string& medium : MountedMedia(s)) {
    std::string dir = medium + "/slipway/images";
    if (std::filesystem::is_directory(s.Path(dir), ec)) return {s.Path(dir), "boot medium " + dir};
  }
  std::string root = storage_root == "/" ? "" : storage_root;
  for (const Csv& c : hw.csvs) {
    std::string dir = c.path + "/slipway-images";
    std::string host = root.empty() ? s.Path(dir) : root + dir;
    if (std::filesystem::is_directory(host, ec)) return {host, "CSV " + dir};
  }
  return {"",
          "none (no --images, no slipway/images on the boot medium, no slipway-images on a CSV): the base volumes stay "
          "empty"};
}

std::string FindHostSystemDir(const Sysroot& s, const std::string& explicit_dir) {
  if (!explicit_dir.empty()) return explicit_dir;
  std::error_code ec;
  for (const std::string& medium : MountedMedia(s)) {
    std::string dir = s.Path(medium + "/" + kHostSystemDir);
    if (std::filesystem::exists(dir + "/" + kHostSystemManifest, ec)) return dir;
  }
  return "";
}

Result<AnswerFile> FindAnswerFile(const Sysroot& s, const std::string& explicit_path) {
  // 1. The kernel command line.
  if (auto cmdline = s.ReadLine("/proc/cmdline")) {
    for (const std::string& word : Split(*cmdline, ' ')) {
      if (!StartsWith(word, "slipway.answer=")) continue;
      std::string path = word.substr(15);
      auto text = s.Read(path);
      if (!text) return std::move(text).error().Context("answer file named on the kernel command line");
      return AnswerFile{*text, "kernel command line slipway.answer=" + path, path};
    }
  }
  // 2. The boot medium.
  for (const std::string& medium : MountedMedia(s)) {
    std::string path = medium + "/slipway/answer.toml";
    if (auto text = s.Read(path)) return AnswerFile{*text, "boot medium " + path, path};
  }
  // 3. A file system labelled SLIPWAY.
  if (auto dev = s.Resolve("/dev/disk/by-label/SLIPWAY")) {
    std::string host_path = s.Path(*dev);
    if (auto text = FromIso(host_path)) {
      return AnswerFile{*text, "file system labelled SLIPWAY (" + *dev + ", ISO9660)", *dev + ":answer.toml"};
    }
    if (auto text = FromFat(host_path)) {
      return AnswerFile{*text, "file system labelled SLIPWAY (" + *dev + ", FAT)", *dev + ":answer.toml"};
    }
  }
  // 4. --answer.
  if (!explicit_path.empty()) {
    auto text = ReadInputFile(explicit_path, kMaxTomlBytes);
    if (!text) return std::move(text).error().Context("--answer");
    return AnswerFile{*text, "--answer " + explicit_path, explicit_path};
  }
  return AnswerFile{};
}

FleetHost ApplyDefaults(const FleetHost& d, const FleetHost& h) {
  FleetHost out = h;
  if (out.hardware_profile.empty()) out.hardware_profile = d.hardware_profile;
  if (out.clusters.empty()) out.clusters = d.clusters;
  if (out.libvirt_uri.empty()) out.libvirt_uri = d.libvirt_uri;
  if (!out.install_disk) out.install_disk = d.install_disk;
  if (out.ssh_authorized_keys.empty()) out.ssh_authorized_keys = d.ssh_authorized_keys;
  if (!out.network.gateway) out.network.gateway = d.network.gateway;
  if (out.network.dns.empty()) out.network.dns = d.network.dns;
  if (!h.positions.count("network.mode")) out.network.mode = d.network.mode;
  if (out.network.uplink.empty()) out.network.uplink = d.network.uplink;
  if (out.network.bridge.empty()) out.network.bridge = d.network.bridge;
  return out;
}

Result<MatchedHost> MatchHost(const Fleet& fleet, const HardwareReport& r) {
  std::vector<std::string> macs = r.Macs();
  std::string serial = r.smbios.serial.value_or(""), uuid = r.smbios.uuid.value_or("");
  std::vector<std::pair<const FleetHost*, std::string>> hits;
  for (const FleetHost& h : fleet.hosts) {
    std::string why;
    if (h.mac) {
      std::string m = FormatMac(*h.mac);
      if (std::find(macs.begin(), macs.end(), m) != macs.end()) why = "MAC " + m;
    }
    if (why.empty() && !h.serial.empty() && h.serial == serial) why = "serial " + serial;
    if (why.empty() && !h.uuid.empty() && h.uuid == uuid) why = "SMBIOS UUID " + uuid;
    if (!why.empty()) hits.emplace_back(&h, why);
  }
  if (hits.size() > 1) {
    return Error::Input(fleet.file + ": hosts '" + hits[0].first->name + "' (" + hits[0].second + ") and '" +
                        hits[1].first->name + "' (" + hits[1].second + ") both match this machine; keep one");
  }
  if (hits.empty()) {
    return Error::HostUnsuitable("no [[host]] entry of " + fleet.file + " matches this machine: MACs " +
                                 (macs.empty() ? std::string("none") : Join(macs, ", ")) + ", serial " +
                                 (serial.empty() ? "unknown (" + r.smbios.serial.unknown + ")" : serial) + ", UUID " +
                                 (uuid.empty() ? "unknown (" + r.smbios.uuid.unknown + ")" : uuid) +
                                 "; add an entry with one of them");
  }
  return MatchedHost{ApplyDefaults(fleet.defaults, *hits[0].first), hits[0].second};
}

}  // namespace slipway::installer

#include "installer/plan/catalog.h"
#include "installer/plan/planner.h"

namespace slipway::installer {

void CheckFleetFits(const Fleet& fleet, const Catalog& catalog, Diagnostics* diags) {
  if (!catalog.sizes || !catalog.firmware) return;
  for (const FleetHost& entry : fleet.hosts) {
    FleetHost h = ApplyDefaults(fleet.defaults, entry);
    const HardwareProfile* p = catalog.FindHardware(h.hardware_profile);
    if (!p) continue;  // reported by CrossCheckCatalog
    std::vector<const ClusterProfile*> clusters;
    for (const std::string& c : h.clusters) {
      if (const ClusterProfile* cp = catalog.FindCluster(c)) clusters.push_back(cp);
    }
    // The smallest machine the profile accepts.
    HardwareReport r;
    r.cpu.cores = Probed<int64_t>::Known(p->match.min_cores);
    r.memory_bytes = Probed<uint64_t>::Known(static_cast<uint64_t>(p->match.min_memory_gib) << 30);
    r.smbios.uuid = Probed<std::string>::Known("minimum-" + p->name);
    int64_t csvs = std::max<int64_t>(1, p->match.min_csvs);
    for (int64_t i = 0; i < csvs; ++i) {
      Csv c;
      c.id = "csv-min-" + std::to_string(i);
      c.path = "/ClusterStorage/Volume" + std::to_string(i + 1);
      c.writable = true;
      c.free_bytes = Probed<uint64_t>::Known(
          (static_cast<uint64_t>(std::max<int64_t>(p->match.min_csv_free_gib, 1)) << 30) / csvs);
      r.csvs.push_back(c);
    }
    PlanInputs in;
    in.hosts = {{r, "minimum of profile " + p->name, ""}};
    in.profile = p;
    in.clusters = clusters;
    in.sizes = &*catalog.sizes;
    in.firmware = &*catalog.firmware;
    auto plan = MakePlan(in);
    if (!plan) {
      diags->Error(entry.pos,
                   "host '" + entry.name + "': clusters " + QuoteList(h.clusters, " and ") + " do not fit profile '" +
                       p->name + "' at its minimum (" + std::to_string(p->match.min_cores) + " cores, " +
                       std::to_string(p->match.min_memory_gib) + " GiB, " + std::to_string(p->match.min_csv_free_gib) +
                       " GiB of CSV space): " + plan.error().message());
    }
  }
}

Result<ManagementNetwork> MgmtNetwork(const FleetHost& h) {
  ManagementNetwork m;
  if (h.network.mode == NetworkMode::kBridge && (!h.network.address || !h.network.vip)) {
    return Error::Input("host '" + h.name +
                        "': [host.network] mode = \"bridge\" puts the management cluster on the host's own subnet, "
                        "so it needs the host's 'address' (CIDR) and the management API 'vip'");
  }
  if (!h.network.address || !h.network.vip) return m;
  auto [ip, prefix] = *h.network.address;
  uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
  Cidr cidr{Ipv4{ip.value & mask}, prefix};
  if (!cidr.Range().Contains(*h.network.vip)) {
    return Error::Input("host '" + h.name + "': vip " + h.network.vip->ToString() + " is outside its network " +
                        cidr.ToString());
  }
  m.cidr = cidr.ToString();
  m.gateway = h.network.gateway ? h.network.gateway->ToString() : Ipv4{cidr.address.value + 1}.ToString();
  m.vip = h.network.vip->ToString();
  m.node_ip_pool = Ipv4{h.network.vip->value + 1}.ToString() + "-" + Ipv4{h.network.vip->value + 10}.ToString();
  m.dns.clear();
  for (const Ipv4& d : h.network.dns) m.dns.push_back(d.ToString());
  if (m.dns.empty()) m.dns.push_back(m.gateway);
  m.mode = h.network.mode;
  m.bridge = h.network.bridge.empty() ? kDefaultHostBridge : h.network.bridge;
  return m;
}

}  // namespace slipway::installer
