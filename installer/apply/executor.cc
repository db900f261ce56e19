// The executor.
#include "installer/apply/executor.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "common/atomic_file.h"
#include "common/hash.h"
#include "firmware/domain_firmware.h"
#include "installer/apply/host_bridge.h"
#include "installer/apply/journal.h"
#include "installer/apply/plan_check.h"
#include "installer/apply/secrets.h"
#include "installer/apply/seed_iso.h"

namespace slipway::installer {

namespace fs = std::filesystem;

namespace {
constexpr std::pair<StepKind, const char*> kStepKinds[] = {
    {StepKind::kNetwork, "network"}, {StepKind::kPool, "pool"},   {StepKind::kBase, "base"},
    {StepKind::kVolume, "volume"},   {StepKind::kSeed, "seed"},   {StepKind::kAnswer, "answer"},
    {StepKind::kDomain, "domain"},   {StepKind::kStart, "start"},
};
}  // namespace

std::string ToString(StepKind k) {
  for (const auto& [kind, name] : kStepKinds) {
    if (kind == k) return name;
  }
  return "?";
}

std::optional<StepKind> ParseStepKind(std::string_view s) {
  for (const auto& [kind, name] : kStepKinds) {
    if (s == name) return kind;
  }
  return std::nullopt;
}

bool IsVolume(StepKind k) {
  return k == StepKind::kBase || k == StepKind::kVolume || k == StepKind::kSeed || k == StepKind::kAnswer;
}

namespace {
// The objects of one VM that apply's and destroy's summaries count: its
// domain and its volumes (a shared base volume and "start" are not).
bool CountsAsVmObject(StepKind k) { return k == StepKind::kDomain || (IsVolume(k) && k != StepKind::kBase); }
}  // namespace
using firmware::XmlEscape;

namespace {

constexpr const char* kMetaNs = "https://slipway.dev/xmlns/vm/1";
// Pool folders: QEMU runs as libvirt-qemu and must traverse them to open the
// disk files libvirt hands it; listing them stays root's.
constexpr const char* kPoolMode = "0711";

std::string Field(const std::string& xml, const std::string& open, const std::string& close) {
  size_t a = xml.find(open);
  if (a == std::string::npos) return "";
  a += open.size();
  size_t b = xml.find(close, a);
  return b == std::string::npos ? "" : xml.substr(a, b - a);
}

std::string UuidOf(const std::string& xml) { return Field(xml, "<uuid>", "</uuid>"); }

std::string BridgeName(const std::string& id) { return "slw" + Sha256Hex(id).substr(0, 8); }

// A NAT network: libvirt's dnsmasq answers DNS on the gateway address (and
// forwards to the host's resolvers), so the gateway the planner names as a
// guest's DNS server really answers. No DHCP: addresses come from the seed.
std::string NetworkXml(const PlanNetwork& n) {
  if (n.mode == NetworkMode::kBridge) {
    // The host's bridge on its uplink (slipway bridge): VM NICs join the
    // datacenter network; the datacenter serves routing and DNS.
    return "<network>\n  <name>" + XmlEscape(n.name) + "</name>\n  <uuid>" + NameUuid(n.id) +
           "</uuid>\n  <forward mode='bridge'/>\n  <bridge name='" + XmlEscape(n.AttachBridge()) + "'/>\n</network>\n";
  }
  return "<network>\n  <name>" + XmlEscape(n.name) + "</name>\n  <uuid>" + NameUuid(n.id) +
         "</uuid>\n  <forward mode='nat'/>\n  <bridge name='" + BridgeName(n.id) +
         "' stp='on' delay='0'/>\n  <ip address='" + XmlEscape(n.gateway) + "' prefix='" + std::to_string(n.prefix) +
         "'/>\n</network>\n";
}

std::string PoolXml(const PlanPool& p, const std::string& root) {
  return "<pool type='dir'>\n  <name>" + XmlEscape(p.name) + "</name>\n  <uuid>" + NameUuid(p.id) +
         "</uuid>\n  <target>\n    <path>" + XmlEscape(root + p.path) + "</path>\n    <permissions><mode>" + kPoolMode +
         "</mode></permissions>\n  </target>\n</pool>\n";
}

// The first folder from `path` up to / that QEMU, running as its own user
// (libvirt's DAC model), cannot traverse; empty when every one is
// traversable by others. libvirt gives the disk files to the QEMU user at
// start, but never changes the folders above them.
std::string UntraversableAncestor(const std::string& path) {
  for (fs::path p = fs::path(path); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & S_IXOTH)) return p.string();
    if (p == p.root_path()) break;
  }
  return "";
}

std::string VolumeXml(const std::string& name, uint64_t capacity, const std::string& format,
                      const std::string& backing) {
  std::string x = "<volume>\n  <name>" + XmlEscape(name) + "</name>\n  <capacity unit='bytes'>" +
                  std::to_string(capacity) + "</capacity>\n  <target>\n    <format type='" + format +
                  "'/>\n    <permissions><mode>0600</mode></permissions>\n  </target>\n";
  if (!backing.empty()) {
    x += "  <backingStore>\n    <path>" + XmlEscape(backing) +
         "</path>\n    <format type='qcow2'/>\n  </backingStore>\n";
  }
  return x + "</volume>\n";
}

std::string SeedName(const PlanVm& vm) { return vm.name + "-seed.iso"; }
std::string AnswerName(const PlanVm& vm) { return vm.name + "-answer.iso"; }

// The Windows node kit in --images (slipway build image images/windows-node.toml):
// IMAGE-answer.iso (autounattend.xml, slipway/firstboot.ps1) and IMAGE.kit.json
// (the media path). Empty strings when there is no kit.
struct WindowsKit {
  std::string answer_iso;
  std::string media;
  std::string media_kind;
};
WindowsKit FindWindowsKit(const std::string& images_dir, const std::string& image) {
  WindowsKit k;
  if (images_dir.empty()) return k;
  std::string iso = images_dir + "/" + image + "-answer.iso";
  if (!fs::exists(iso)) return k;
  k.answer_iso = iso;
  if (auto text = ReadFile(images_dir + "/" + image + ".kit.json")) {
    try {
      auto j = nlohmann::json::parse(*text);
      k.media = j.value("media", std::string());
      k.media_kind = j.value("media_kind", std::string());
    } catch (const nlohmann::json::exception&) {
    }
  }
  return k;
}

// Everything Slipway may have created, kept in the state folder so that
// removals and destroy find objects of earlier plans too.
struct Owned {
  std::vector<Step> steps;
  static Result<Owned> Load(const std::string& file) {
    Owned o;
    if (!fs::exists(file)) return o;
    auto text = ReadFile(file);
    if (!text) return std::move(text).error();
    try {
      for (const auto& s : nlohmann::json::parse(*text)) {
        std::string kind = s.at("kind");
        auto k = ParseStepKind(kind);
        if (!k) return Error::Runtime(file + " is corrupt: unknown step kind '" + kind + "'");
        o.steps.push_back({s.at("id"), *k, s.at("name"), s.at("pool"), s.at("cluster"), s.at("plan_id")});
      }
    } catch (const nlohmann::json::exception& e) {
      return Error::Runtime(file + " is corrupt: " + e.what());
    }
    return o;
  }
  Status Save(const std::string& file) const {
    nlohmann::json j = nlohmann::json::array();
    for (const Step& s : steps) {
      j.push_back({{"id", s.id},
                   {"kind", ToString(s.kind)},
                   {"name", s.name},
                   {"pool", s.pool},
                   {"cluster", s.cluster},
                   {"plan_id", s.plan_id}});
    }
    return WriteFileAtomic(file, j.dump(1) + "\n", 0600);
  }
  bool Has(const std::string& id) const {
    return std::any_of(steps.begin(), steps.end(), [&](const Step& s) { return s.id == id; });
  }
  void Add(const Step& s) {
    if (!Has(s.id)) steps.push_back(s);
  }
  void Remove(const std::string& id) {
    steps.erase(std::remove_if(steps.begin(), steps.end(), [&](const Step& s) { return s.id == id; }), steps.end());
  }
};

enum class Status2 { kOk, kMissing, kIncomplete, kDrift };

class Executor {
 public:
  Executor(const Plan& plan, Hypervisor& hv, const ApplyOptions& o, Journal journal, SecretStore secrets)
      : plan_(plan), hv_(hv), o_(o), journal_(std::move(journal)), secrets_(std::move(secrets)) {
    for (const PlanVm& vm : plan.vms) {
      vms_[vm.id] = &vm;
      // A VM whose files name its etcd member certificate is that member:
      // the certificate is issued for the VM's planned address.
      for (const PlanFile& f : vm.files) {
        for (const std::string& ref : f.secret_refs) {
          if (!ref.starts_with("etcd-cert/") || vm.nics.empty()) continue;
          std::string owner = ref.substr(ref.find('/') + 1);
          if (owner.substr(owner.find('.') + 1) != vm.name) continue;  // only its own
          secrets_.DeclareEtcdMember(owner.substr(0, owner.find('.')), owner.substr(owner.find('.') + 1),
                                     vm.nics[0].ip);
        }
      }
    }
    for (const PlanPool& p : plan.pools) pools_[p.id] = &p;
    for (const PlanNetwork& n : plan.networks) nets_[n.id] = &n;
    for (const PlanBaseVolume& b : plan.base_volumes) bases_[b.id] = &b;
    domain_type_ = !o.domain_type.empty() ? o.domain_type : hv.DriverType() == "test" ? "test" : "qemu";
  }

  // What state is this step's object in?
  Status2 Observe(const Step& s, std::string* why) {
    std::string journal = journal_.LastState(s.id);
    if (s.kind == StepKind::kNetwork) {
      ObjectState st = hv_.Network(s.name);
      if (!st.exists) return Status2::kMissing;
      if (UuidOf(st.xml) != NameUuid(s.plan_id)) return Drift(why, "network " + s.name + " exists with another UUID");
      return st.active && st.autostart ? Status2::kOk : Status2::kIncomplete;
    }
    if (s.kind == StepKind::kPool) {
      ObjectState st = hv_.Pool(s.name);
      if (!st.exists) return Status2::kMissing;
      if (UuidOf(st.xml) != NameUuid(s.plan_id))
        return Drift(why, "storage pool " + s.name + " exists with another UUID");
      std::string want = Root() + pools_.at(s.plan_id)->path;
      if (Field(st.xml, "<path>", "</path>") != want) {
        return Drift(why,
                     "storage pool " + s.name + " points at " + Field(st.xml, "<path>", "</path>") + ", not " + want);
      }
      return st.active ? Status2::kOk : Status2::kIncomplete;
    }
    if (s.kind == StepKind::kAnswer && journal == "done" &&
        FindWindowsKit(o_.images_dir, vms_.at(s.plan_id)->image).answer_iso.empty()) {
      return Status2::kOk;  // applied without a kit: nothing to hold (the note said so)
    }
    if (IsVolume(s.kind)) {
      if (std::string foreign = ForeignPool(s.pool); !foreign.empty()) return Drift(why, foreign);
      ObjectState st = hv_.Volume(s.pool, s.name);
      if (!st.exists) return Status2::kMissing;
      // Begun but never finished (crash during create or upload): ours to
      // redo, unless something uses it. A journal cut back to this "begin"
      // (lost records) must not cost a running VM its disk.
      if (journal == "begin") {
        std::string user = VolumeUser(s.pool, s.name);
        if (!user.empty()) {
          return Drift(why, ToString(s.kind) + " volume " + s.pool + "/" + s.name + " is used by " + user +
                                ", but the journal says its creation never finished (lost journal records?); "
                                "Slipway leaves it alone. Check it, then record it with 'slipway apply' after "
                                "moving " +
                                journal_.path() + " aside, or remove the volume");
        }
        return Status2::kIncomplete;
      }
      if (s.kind == StepKind::kVolume) {
        uint64_t want = DiskOf(s).size_bytes;
        std::string cap = Field(st.xml, "<capacity unit='bytes'>", "</capacity>");
        if (cap != std::to_string(want))
          return Drift(why, "volume " + s.pool + "/" + s.name + " has capacity " + cap + ", the plan says " +
                                std::to_string(want));
      }
      if ((s.kind == StepKind::kSeed || s.kind == StepKind::kAnswer) && journal != "done") return Status2::kIncomplete;
      return Status2::kOk;
    }
    if (s.kind == StepKind::kDomain) {
      ObjectState st = hv_.Domain(s.name);
      if (!st.exists) return Status2::kMissing;
      if (UuidOf(st.xml) != vms_.at(s.plan_id)->uuid) {
        return Drift(why, "domain " + s.name + " exists with UUID " + UuidOf(st.xml) + ", not Slipway's " +
                              vms_.at(s.plan_id)->uuid);
      }
      return Status2::kOk;
    }
    ObjectState st = hv_.Domain(s.name);  // start
    return st.exists && st.active && st.autostart ? Status2::kOk : Status2::kMissing;
  }

  Status Run(const Step& s, Status2 state, std::string* note) {
    if (auto st = journal_.Record(s.id, "begin"); !st) return st;
    Status result = Do(s, state, note);
    if (!result) return result;
    return journal_.Record(s.id, "done", *note);
  }

  // Removes an object that owned.json says Slipway made. owned.json is only
  // Slipway's own record, so libvirt must agree before anything is deleted:
  // domains, networks and pools by their UUID (derived from the plan id),
  // volumes by lying in a pool that is provably Slipway's. An object that
  // fails the check is left alone, and `note` says why.
  Status RemoveVmObject(const Step& s, std::string* note) {
    if (auto st = journal_.Record(s.id, "remove-begin"); !st) return st;
    Status r = Ok();
    auto ours = [&](const ObjectState& o, const std::string& what) {
      if (!o.exists) return false;
      if (UuidOf(o.xml) == NameUuid(s.plan_id)) return true;
      *note = "left alone: " + what + " " + s.name + " has UUID " + UuidOf(o.xml) + ", not Slipway's";
      return false;
    };
    if (s.kind == StepKind::kDomain || s.kind == StepKind::kStart) {
      if (ours(hv_.Domain(s.name), "domain")) r = hv_.DeleteDomain(s.name);
    } else if (IsVolume(s.kind)) {
      if (std::string foreign = ForeignPool(s.pool); !foreign.empty()) {
        *note = "left alone: " + foreign;
        return journal_.Record(s.id, "removed", *note);
      }
      if (!hv_.Volume(s.pool, s.name).exists) return journal_.Record(s.id, "removed");
      // Domains and overlays go first, so by now nothing of ours uses it;
      // anything that still does is not Slipway's to break.
      if (std::string user = VolumeUser(s.pool, s.name); !user.empty()) {
        return Error::Runtime(ToString(s.kind) + " volume " + s.pool + "/" + s.name + " is still used by " + user +
                              "; Slipway does not delete a volume in use. Remove that user first, then run again");
      }
      r = hv_.DeleteVolume(s.pool, s.name);
    } else if (s.kind == StepKind::kNetwork) {
      if (ours(hv_.Network(s.name), "network")) r = hv_.DeleteNetwork(s.name);
    } else if (s.kind == StepKind::kPool) {
      if (ours(hv_.Pool(s.name), "storage pool")) r = hv_.DeletePool(s.name);
    }
    if (!r) return r;
    return journal_.Record(s.id, "removed", *note);
  }

 private:
  Status2 Drift(std::string* why, std::string what) {
    *why = std::move(what);
    return Status2::kDrift;
  }
  std::string Root() const { return o_.storage_root == "/" ? "" : o_.storage_root; }

  // Empty when `pool` is missing or is a pool Slipway made: named
  // PoolName(id) with the UUID of PoolPlanId(id). That proof comes from
  // libvirt alone, so a stale or edited owned.json or journal cannot make
  // Slipway delete or recreate a volume in someone else's pool.
  std::string ForeignPool(const std::string& pool) {
    ObjectState p = hv_.Pool(pool);
    if (!p.exists) return "";
    if (pool.starts_with(kPoolNamePrefix) &&
        UuidOf(p.xml) == NameUuid(PoolPlanId(std::string_view(pool).substr(kPoolNamePrefix.size())))) {
      return "";
    }
    return "storage pool " + pool +
           " is not one Slipway made (its name or UUID is not Slipway's), so its volumes "
           "are not Slipway's to delete or recreate";
  }

  // Who uses the volume pool/name: "domain X" when a defined domain's XML
  // holds its path, "volume P/V" when an overlay has it as backing store
  // (base volumes), "" when nothing does.
  std::string VolumeUser(const std::string& pool, const std::string& name) {
    std::string path = hv_.VolumePath(pool, name);
    if (path.empty()) return "";
    auto quoted = [&](const std::string& xml) {
      return xml.find("'" + path + "'") != std::string::npos || xml.find(">" + path + "<") != std::string::npos;
    };
    Inventory inv = hv_.List();
    for (const std::string& d : inv.domains) {
      if (quoted(hv_.Domain(d).xml)) return "domain " + d;
    }
    // Only a base volume is a backing store; skip the scan for the others.
    bool base = true;
    for (const char* suffix : {"-os.qcow2", "-data.qcow2", "-seed.iso", "-answer.iso"}) {
      if (name.ends_with(suffix)) base = false;
    }
    for (const std::string& pv : base ? inv.volumes : std::vector<std::string>{}) {
      size_t slash = pv.find('/');
      if (slash == std::string::npos || pv == pool + "/" + name) continue;
      std::string xml = hv_.Volume(pv.substr(0, slash), pv.substr(slash + 1)).xml;
      size_t backing = xml.find("<backingStore>");
      if (backing != std::string::npos && quoted(xml.substr(backing))) return "volume " + pv;
    }
    return "";
  }

  const PlanDisk& DiskOf(const Step& s) const {
    for (const PlanVm& vm : plan_.vms) {
      for (const PlanDisk& d : vm.disks) {
        if (d.id == s.plan_id) return d;
      }
    }
    static PlanDisk none;
    return none;
  }
  const PlanVm& VmOfDisk(const Step& s) const {
    for (const PlanVm& vm : plan_.vms) {
      for (const PlanDisk& d : vm.disks) {
        if (d.id == s.plan_id) return vm;
      }
    }
    return plan_.vms.front();
  }

  Status Do(const Step& s, Status2 state, std::string* note) {
    if (s.kind == StepKind::kNetwork) {
      const PlanNetwork& n = *nets_.at(s.plan_id);
      if (n.mode == NetworkMode::kBridge && domain_type_ != "test" && !IsHostBridge(n.AttachBridge(), SystemIp())) {
        return Error::Runtime("network " + n.name + " attaches VMs to the host bridge " + n.AttachBridge() +
                              ", which does not exist; create it on the uplink with 'slipway bridge --uplink NIC "
                              "--bridge " +
                              n.bridge + (n.vlan > 0 ? " --vlan " + std::to_string(n.vlan) : "") +
                              "' (the installer does this itself), then apply again");
      }
      if (state == Status2::kMissing) {
        if (auto st = hv_.DefineNetwork(NetworkXml(*nets_.at(s.plan_id))); !st) return st;
      }
      return hv_.StartNetwork(s.name, true);
    }
    if (s.kind == StepKind::kPool) {
      std::error_code ec;
      std::string dir = Root() + pools_.at(s.plan_id)->path;
      fs::create_directories(dir, ec);
      ::chmod(dir.c_str(), 0711);
      if (domain_type_ != "test") {
        if (std::string bad = UntraversableAncestor(dir); !bad.empty()) {
          return Error::Runtime("QEMU runs as its own user (libvirt-qemu) and cannot reach the pool folder " + dir +
                                ": " + bad + " is not traversable by others; run 'chmod o+x " + bad +
                                "' or put the storage root elsewhere");
        }
      }
      if (state == Status2::kMissing) {
        if (auto st = hv_.DefinePool(PoolXml(*pools_.at(s.plan_id), Root())); !st) return st;
      }
      return hv_.StartPool(s.name, true);
    }
    if (state == Status2::kIncomplete && IsVolume(s.kind)) {
      if (auto st = hv_.DeleteVolume(s.pool, s.name); !st) return st;
    }
    if (s.kind == StepKind::kBase) {
      const PlanBaseVolume& b = *bases_.at(s.plan_id);
      std::string file = o_.images_dir.empty() ? "" : o_.images_dir + "/" + b.image + ".qcow2";
      uint64_t size = b.size_bytes;
      if (!file.empty() && fs::exists(file)) size = fs::file_size(file);
      if (auto st = hv_.CreateVolume(s.pool, VolumeXml(s.name, size, "qcow2", "")); !st) return st;
      if (file.empty() || !fs::exists(file)) {
        *note = "no image file " + (file.empty() ? b.image + ".qcow2 (no --images folder)" : file) +
                "; the base volume is empty until 'slipway build image' output is supplied";
        return Ok();
      }
      Status up = hv_.UploadVolume(s.pool, s.name, file);
      if (!up && IsUnsupported(up.error())) {
        *note = "this libvirt driver cannot upload volumes; " + file + " was not copied";
        return Ok();
      }
      return up;
    }
    if (s.kind == StepKind::kVolume) {
      const PlanDisk& d = DiskOf(s);
      std::string backing;
      if (d.kind == "os") {
        const PlanBaseVolume& b = *bases_.at(d.base_id);
        backing = hv_.VolumePath(PoolName(b.pool_id), b.name);
      }
      return hv_.CreateVolume(s.pool, VolumeXml(s.name, d.size_bytes, "qcow2", backing));
    }
    if (s.kind == StepKind::kSeed) return WriteSeed(s, note);
    if (s.kind == StepKind::kAnswer) return WriteAnswer(s, note);
    if (s.kind == StepKind::kDomain) {
      const PlanVm& vm = *vms_.at(s.plan_id);
      std::vector<std::string> paths;
      for (const PlanDisk& d : vm.disks) paths.push_back(hv_.VolumePath(PoolName(d.pool_id), d.name));
      // CD-ROMs: the seed; for Windows, the install media and the answer ISO.
      std::vector<std::string> cdroms = {hv_.VolumePath(PoolName(vm.disks[0].pool_id), SeedName(vm))};
      if (vm.os == "windows") {
        WindowsKit kit = FindWindowsKit(o_.images_dir, vm.image);
        if (!kit.answer_iso.empty()) {
          if (kit.media_kind == "iso" && !kit.media.empty()) cdroms.push_back(kit.media);
          cdroms.push_back(hv_.VolumePath(PoolName(vm.disks[0].pool_id), AnswerName(vm)));
        }
      }
      std::string console = o_.state_dir + "/console/" + vm.name + ".log";
      std::error_code ec;
      fs::create_directories(o_.state_dir + "/console", ec);
      std::string nvram = Root() + pools_.at(vm.disks[0].pool_id)->path + "/" + vm.name + "_VARS.fd";
      return hv_.DefineDomain(DomainXml(vm, plan_, domain_type_, paths, cdroms, console, nvram));
    }
    return hv_.StartDomain(s.name, true);
  }

  std::string PoolName(const std::string& pool_id) const { return pools_.at(pool_id)->name; }

  Status WriteSeed(const Step& s, std::string* note) {
    const PlanVm& vm = *vms_.at(s.plan_id);
    std::vector<std::pair<std::string, std::string>> files;
    for (const PlanFile& f : vm.seed) {
      auto filled = secrets_.Fill(f.content);
      if (!filled) return std::move(filled).error();
      files.emplace_back(f.path, std::move(*filled));
    }
    // The VM's files also travel as plain files (slipway/files/<path>, modes
    // in slipway/modes), which Slipway's first-boot agent copies in place
    // without parsing YAML; cloud-init keeps using user-data's write_files.
    if (vm.os != "windows") {
      std::string modes;
      for (const PlanFile& f : vm.files) {
        auto filled = secrets_.Fill(f.content);
        if (!filled) return std::move(filled).error();
        files.emplace_back("slipway/files" + f.path, std::move(*filled));
        modes += f.mode + " " + f.path + "\n";
      }
      if (!modes.empty()) files.emplace_back("slipway/modes", modes);
    }
    return PlaceIso(s, vm.os == "windows" ? "config-2" : "cidata", files, "seed", note);
  }

  // The Windows answer ISO: the kit's autounattend.xml and first-boot
  // script with this VM's secrets (the administrator password) filled in.
  Status WriteAnswer(const Step& s, std::string* note) {
    const PlanVm& vm = *vms_.at(s.plan_id);
    WindowsKit kit = FindWindowsKit(o_.images_dir, vm.image);
    if (kit.answer_iso.empty()) {
      *note = "no Windows node kit " + vm.image + "-answer.iso in " +
              (o_.images_dir.empty() ? std::string("(no --images folder)") : o_.images_dir) +
              "; the VM has no install media until 'slipway build image images/" + vm.image +
              ".toml --windows-media PATH --out DIR' is applied with --images DIR";
      return Ok();
    }
    auto kit_files = ReadIsoFiles(kit.answer_iso);
    if (!kit_files) return std::move(kit_files).error().Context("Windows node kit");
    std::vector<std::pair<std::string, std::string>> files;
    for (auto& [name, body] : *kit_files) {
      auto filled = secrets_.Fill(body);
      if (!filled) return std::move(filled).error();
      files.emplace_back(name, std::move(*filled));
    }
    if (kit.media_kind != "iso") {
      *note = "the kit's media " + (kit.media.empty() ? std::string("(unknown)") : kit.media) +
              " is not an ISO; attach Windows install media to " + vm.name + " yourself";
    }
    std::string placed;
    if (auto st = PlaceIso(s, "SLIPWAYWIN", files, "answer", &placed); !st) return st;
    if (note->empty()) *note = placed;
    return Ok();
  }

  // Writes `files` as an ISO (0600: secrets inside) under the state folder,
  // then into the step's volume: uploaded, or, where the driver keeps no
  // volume data (the test driver), written at the volume's path.
  Status PlaceIso(const Step& s, const std::string& label,
                  const std::vector<std::pair<std::string, std::string>>& files, const std::string& what,
                  std::string* note) {
    std::error_code ec;
    fs::create_directories(o_.state_dir + "/seeds", ec);
    ::chmod((o_.state_dir + "/seeds").c_str(), 0700);
    std::string local = o_.state_dir + "/seeds/" + s.name;
    if (auto st = WriteSeedIso(local, label, files); !st) return st;
    if (auto st = hv_.CreateVolume(s.pool, VolumeXml(s.name, fs::file_size(local), "raw", "")); !st) return st;
    Status up = hv_.UploadVolume(s.pool, s.name, local);
    if (!up && IsUnsupported(up.error())) {
      // Durably (temp file, fsync, rename, fsync of the folder), because the
      // journal records the step as done right after: a power cut must not
      // leave an ISO that the journal calls written but the disk never got.
      std::string path = hv_.VolumePath(s.pool, s.name);
      fs::create_directories(fs::path(path).parent_path(), ec);
      auto bytes = ReadFile(local);
      if (!bytes) return std::move(bytes).error();
      if (auto st = WriteFileAtomic(path, *bytes, 0600); !st) {
        return std::move(st).error().Context("copying the " + what + " ISO to " + path);
      }
      *note = what + " ISO copied to " + path;
      return Ok();
    }
    return up;
  }

  const Plan& plan_;
  Hypervisor& hv_;
  const ApplyOptions& o_;
  Journal journal_;
  SecretStore secrets_;
  std::string domain_type_;
  std::map<std::string, const PlanVm*> vms_;
  std::map<std::string, const PlanPool*> pools_;
  std::map<std::string, const PlanNetwork*> nets_;
  std::map<std::string, const PlanBaseVolume*> bases_;
};

}  // namespace

std::vector<Step> PlanSteps(const Plan& plan) {
  std::vector<Step> out;
  std::map<std::string, std::string> pool_name;
  // The journal key is the kind's spelling and the plan id.
  auto add = [&](StepKind kind, const std::string& plan_id, const std::string& name, const std::string& pool,
                 const std::string& cluster) {
    out.push_back({ToString(kind) + ":" + plan_id, kind, name, pool, cluster, plan_id});
  };
  for (const PlanPool& p : plan.pools) {
    pool_name[p.id] = p.name;
    add(StepKind::kPool, p.id, p.name, "", "");
  }
  for (const PlanBaseVolume& b : plan.base_volumes) add(StepKind::kBase, b.id, b.name, pool_name[b.pool_id], "");
  for (const PlanCluster& c : plan.clusters) {
    for (const PlanNetwork& n : plan.networks) {
      if (n.id == c.network_id) add(StepKind::kNetwork, n.id, n.name, "", c.name);
    }
    for (const std::string& id : c.vms) {
      const PlanVm* vm = plan.FindVm(id);
      for (const PlanDisk& d : vm->disks) add(StepKind::kVolume, d.id, d.name, pool_name[d.pool_id], c.name);
      const std::string& pool = pool_name[vm->disks[0].pool_id];
      add(StepKind::kSeed, vm->id, SeedName(*vm), pool, c.name);
      if (vm->os == "windows") add(StepKind::kAnswer, vm->id, AnswerName(*vm), pool, c.name);
      add(StepKind::kDomain, vm->id, vm->name, "", c.name);
      add(StepKind::kStart, vm->id, vm->name, "", c.name);
    }
  }
  return out;
}

std::string DomainXml(const PlanVm& vm, const Plan& plan, const std::string& domain_type,
                      const std::vector<std::string>& disk_paths, const std::vector<std::string>& cdrom_paths,
                      const std::string& console_log, const std::string& nvram_path) {
  firmware::FirmwareXmlInput fw{
      vm.firmware.mode, vm.firmware.machine,     vm.firmware.loader, vm.firmware.nvram_template,
      nvram_path,       vm.firmware.secure_boot, vm.firmware.tpm};
  std::string net_name;
  for (const PlanNetwork& n : plan.networks) {
    if (n.id == vm.nics[0].network_id) net_name = n.name;
  }
  std::string x =
      "<domain type='" + domain_type + "'>\n  <name>" + XmlEscape(vm.name) + "</name>\n  <uuid>" + vm.uuid +
      "</uuid>\n  <metadata>\n    <slipway:vm xmlns:slipway='" + kMetaNs + "' id='" + XmlEscape(vm.id) + "' cluster='" +
      XmlEscape(vm.cluster) + "' role='" + vm.role + "'/>\n  </metadata>\n  <memory unit='MiB'>" +
      std::to_string(vm.memory_mib) + "</memory>\n  <vcpu>" + std::to_string(vm.vcpus) + "</vcpu>\n" +
      firmware::OsXml(fw, domain_type) + firmware::FeaturesXml(fw) +
      "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n"
      "  <devices>\n";
  const char* letters = "abcdefghij";
  for (size_t i = 0; i < disk_paths.size() && i < 10; ++i) {
    x += "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n      <source file='" +
         XmlEscape(disk_paths[i]) + "'/>\n      <target dev='vd" + letters[i] + "' bus='virtio'/>\n    </disk>\n";
  }
  for (size_t i = 0; i < cdrom_paths.size() && i < 6; ++i) {
    x += "    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n      <source file='" +
         XmlEscape(cdrom_paths[i]) + "'/>\n      <target dev='sd" + std::string(1, letters[i]) +
         "' bus='sata'/>\n      <readonly/>\n    </disk>\n";
  }
  for (const PlanNic& n : vm.nics) {
    x += "    <interface type='network'>\n      <source network='" + XmlEscape(net_name) + "'/>\n      <mac address='" +
         n.mac + "'/>\n      <model type='virtio'/>\n    </interface>\n";
  }
  x += "    <serial type='file'>\n      <source path='" + XmlEscape(console_log) +
       "'/>\n      <target port='0'/>\n    </serial>\n" + firmware::TpmXml(fw) + "  </devices>\n</domain>\n";
  return x;
}

Result<ApplySummary> Apply(const Plan& plan, Hypervisor& hv, const ApplyOptions& options, const EventSink& sink,
                           const std::function<void(const ApplySummary& before)>& announce) {
  // Before the journal, secrets or libvirt: a plan that breaks a rule creates nothing.
  if (auto st = CheckPlan(plan, "the plan", options.storage_root); !st) return std::move(st).error();
  auto journal = Journal::Open(options.state_dir);
  if (!journal) return std::move(journal).error();
  auto secrets = SecretStore::Open(options.state_dir + "/secrets");
  if (!secrets) return std::move(secrets).error();
  std::string owned_file = options.state_dir + "/owned.json";
  auto owned = Owned::Load(owned_file);
  if (!owned) return std::move(owned).error();
  Executor ex(plan, hv, options, std::move(*journal), std::move(*secrets));
  std::vector<Step> steps = PlanSteps(plan);
  std::set<std::string> wanted;
  std::set<std::string> clusters;
  for (const Step& s : steps) wanted.insert(s.id);
  for (const PlanCluster& c : plan.clusters) clusters.insert(c.name);

  // VM-level objects an earlier plan made that this one no longer has.
  std::vector<Step> removals;
  for (const Step& s : owned->steps) {
    if (options.additive || wanted.count(s.id)) continue;
    if (s.kind == StepKind::kPool || s.kind == StepKind::kBase || s.kind == StepKind::kNetwork)
      continue;  // only destroy removes these
    if (!s.cluster.empty() && !clusters.count(s.cluster)) {
      return Error::Input("the plan drops cluster '" + s.cluster +
                          "', which Slipway created; remove it with 'slipway destroy --cluster " + s.cluster + "'");
    }
    removals.push_back(s);
  }
  // Remove in reverse creation order: domains before their volumes.
  std::reverse(removals.begin(), removals.end());

  ApplySummary sum;
  std::vector<Status2> states;
  std::vector<std::string> drift;
  for (const Step& s : steps) {
    std::string why;
    Status2 st = ex.Observe(s, &why);
    states.push_back(st);
    if (st == Status2::kDrift) drift.push_back(why);
    if (st == Status2::kMissing || st == Status2::kIncomplete) {
      // "start" completes a define; count each object once.
      if (s.kind != StepKind::kStart || states.size() < 2 || states[states.size() - 2] == Status2::kOk) ++sum.to_create;
    }
  }
  std::set<std::string> removed_vms;
  for (const Step& s : removals) {
    if (CountsAsVmObject(s.kind)) ++sum.to_destroy;
    removed_vms.insert(s.plan_id);
  }
  if (announce) announce(sum);
  if (!drift.empty()) {
    std::string msg = "libvirt holds objects that differ from the plan (drift); Slipway never replaces them silently:";
    for (const std::string& d : drift) msg += "\n  - " + d;
    msg += "\nremove or rename them, or restore them, then apply again";
    return Error::Runtime(msg);
  }
  if (!removals.empty() && !options.yes) {
    std::string what = std::to_string(sum.to_destroy) + " object(s) of VMs no longer in the plan";
    if (!options.confirm || !options.confirm("remove " + what + "?")) {
      return Error::Input("this apply removes " + what + "; pass --yes to confirm");
    }
  }
  // Record ownership before creating anything, so a crash leaks nothing.
  for (const Step& s : steps) owned->Add(s);
  if (auto st = owned->Save(owned_file); !st) return std::move(st).error();
  if (auto st = WriteFileAtomic(options.state_dir + "/applied-plan.json", nlohmann::json(plan).dump(1) + "\n", 0600);
      !st) {
    return std::move(st).error();
  }

  size_t total = removals.size() + steps.size(), n = 0;
  for (const Step& s : removals) {
    std::string note;
    if (auto st = ex.RemoveVmObject(s, &note); !st) return std::move(st).error();
    owned->Remove(s.id);
    if (auto st = owned->Save(owned_file); !st) return std::move(st).error();
    if (note.empty() && CountsAsVmObject(s.kind)) ++sum.destroyed;
    if (!note.empty()) sum.notes.push_back(note);
    if (sink) sink({++n, total, "remove", s, note});
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    if (states[i] == Status2::kOk) {
      if (s.kind != StepKind::kStart) ++sum.kept;
      if (sink) sink({++n, total, "keep", s, ""});
      continue;
    }
    std::string note;
    if (auto st = ex.Run(s, states[i], &note); !st) {
      return std::move(st).error().Context("step " + std::to_string(n + 1) + "/" + std::to_string(total) + " (" +
                                           ToString(s.kind) + " " + s.name + ")");
    }
    if (s.kind != StepKind::kStart) ++sum.created;
    if (!note.empty() && s.kind == StepKind::kBase) sum.notes.push_back(s.name + ": " + note);
    if (sink) sink({++n, total, "create", s, note});
  }
  return sum;
}

Result<ApplySummary> Destroy(Hypervisor& hv, const DestroyOptions& options, const EventSink& sink) {
  std::string owned_file = options.state_dir + "/owned.json";
  auto owned = Owned::Load(owned_file);
  if (!owned) return std::move(owned).error();
  auto journal = Journal::Open(options.state_dir);
  if (!journal) return std::move(journal).error();
  auto secrets = SecretStore::Open(options.state_dir + "/secrets");
  if (!secrets) return std::move(secrets).error();
  Plan empty;
  ApplyOptions ao;
  ao.state_dir = options.state_dir;
  ao.storage_root = options.storage_root;
  Executor ex(empty, hv, ao, std::move(*journal), std::move(*secrets));
  std::vector<Step> targets;
  for (const Step& s : owned->steps) {
    if (!options.cluster.empty() && s.cluster != options.cluster) continue;
    targets.push_back(s);
  }
  if (!options.cluster.empty() && targets.empty()) {
    std::set<std::string> known;
    for (const Step& s : owned->steps) {
      if (!s.cluster.empty()) known.insert(s.cluster);
    }
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    return Error::Input("Slipway created no cluster '" + options.cluster +
                        "' (known: " + (list.empty() ? "none" : list) + ")");
  }
  // Reverse creation order; pools last (a pool must be empty to go).
  std::reverse(targets.begin(), targets.end());
  std::stable_partition(targets.begin(), targets.end(), [](const Step& s) { return s.kind != StepKind::kPool; });
  ApplySummary sum;
  sum.to_destroy = targets.size();
  size_t n = 0;
  for (const Step& s : targets) {
    std::string note;
    if (auto st = ex.RemoveVmObject(s, &note); !st) {
      return std::move(st).error().Context("removing " + ToString(s.kind) + " " + s.name);
    }
    owned->Remove(s.id);
    if (auto st = owned->Save(owned_file); !st) return std::move(st).error();
    if (note.empty() && s.kind != StepKind::kStart) ++sum.destroyed;
    if (!note.empty()) sum.notes.push_back(note);
    if (sink) sink({++n, targets.size(), "remove", s, note});
  }
  return sum;
}

}  // namespace slipway::installer
