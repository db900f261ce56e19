// The install-disk rule and its guard, on the twelve-disk fixture host with
// real device contents: sparse files under the sysroot's /dev, partitioned
// by libparted and formatted by mkfs.ext4, read back by detect (libblkid).
#include "installer/plan/install_disk.h"

#include <parted/parted.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "common/strings.h"
#include "common/toml_reader.h"
#include "installer/detect/detect.h"
#include "installer/service/answer.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

const char* kDisks[] = {"nvme0n1", "nvme1n1", "nvme2n1", "nvme3n1", "sda", "sdb",
                        "sdc",     "sdd",     "sde",     "sdf",     "sdg", "sdh"};

// The twelve-disk host, copied; every disk gets an empty 64 MiB sparse
// device file unless `missing` names it.
struct TwelveDisks {
  testing::TempDir t;
  explicit TwelveDisks(const std::vector<std::string>& missing = {}) {
    std::filesystem::copy(testing::Fixtures() + "/hosts/twelve-disks", t.path(),
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
    for (const char* d : kDisks) {
      if (std::find(missing.begin(), missing.end(), d) != missing.end()) continue;
      std::string dev = t / ("dev/" + std::string(d));
      testing::WriteText(dev, "");
      std::filesystem::resize_file(dev, 64ull << 20);
    }
  }
  std::string Dev(const std::string& name) const { return t / ("dev/" + name); }
  HardwareReport Detect() const {
    Sysroot root(t.path());
    auto usage = RecordedFsUsage::Load(t / "statvfs.json");
    REQUIRE(usage.ok());
    auto r = installer::Detect(root, **usage, {});
    REQUIRE(r.ok());
    return std::move(*r);
  }
};

// A GPT with an ESP and a data partition, written by libparted.
void PartitionGpt(const std::string& path) {
  ped_exception_fetch_all();
  PedDevice* dev = ped_device_get(path.c_str());
  REQUIRE(dev);
  PedDisk* disk = ped_disk_new_fresh(dev, ped_disk_type_get("gpt"));
  REQUIRE(disk);
  PedSector mib = (1 << 20) / dev->sector_size;
  for (auto [start, end] : {std::pair<PedSector, PedSector>{mib, 17 * mib - 1}, {17 * mib, 60 * mib - 1}}) {
    PedPartition* part = ped_partition_new(disk, PED_PARTITION_NORMAL, ped_file_system_type_get("ext2"), start, end);
    PedConstraint* exact = ped_constraint_exact(&part->geom);
    REQUIRE(ped_disk_add_partition(disk, part, exact));
    ped_constraint_destroy(exact);
  }
  REQUIRE(ped_disk_commit_to_dev(disk));
  ped_disk_destroy(disk);
  ped_device_destroy(dev);
  ped_exception_leave_all();
}

// mkfs.ext4 on a device file; `options` before it, `size` (e.g. "43M") after.
void Mkfs(const std::string& path, const std::string& label, const std::string& options = "",
          const std::string& size = "") {
  auto r = testing::Run("mkfs.ext4 -q -F -L " + label + " " + options + " " + path + " " + size);
  REQUIRE(r.exit_code == 0);
}

InstallDiskRule Rule(const std::string& toml_body) {
  Diagnostics diags;
  auto table = ParseTomlText("[install_disk]\n" + toml_body, "rule.toml", &diags);
  REQUIRE(table);
  TableReader top(*table, "rule.toml", "", &diags);
  auto rule = ReadInstallDiskRule(top, "rule.toml", &diags);
  top.Finish();
  INFO((diags.items().empty() ? std::string() : FormatDiagnostic(diags.items()[0])));
  REQUIRE_FALSE(diags.HasErrors());
  REQUIRE(rule);
  rule->origin = "test";
  return *rule;
}

const DiskVerdict& VerdictFor(const InstallDiskChoice& c, const std::string& name) {
  for (const DiskVerdict& v : c.verdicts) {
    if (v.disk == name) return v;
  }
  FAIL("no verdict for " << name);
  throw;
}

}  // namespace

TEST_CASE("detect reads partition tables and file-system labels with libblkid") {
  TwelveDisks h;
  PartitionGpt(h.Dev("nvme1n1"));
  Mkfs(h.Dev("nvme1n1"), "vmdata", "-E offset=" + std::to_string(17 << 20), "43M");
  Mkfs(h.Dev("sdc"), "olddata");
  auto r = h.Detect();
  const Disk* n1 = nullptr;
  const Disk* sdc = nullptr;
  const Disk* sdd = nullptr;
  for (const Disk& d : r.disks) {
    if (d.name == "nvme1n1") n1 = &d;
    if (d.name == "sdc") sdc = &d;
    if (d.name == "sdd") sdd = &d;
  }
  REQUIRE(n1);
  REQUIRE(n1->contents.ok());
  CHECK(n1->contents->partition_table == "gpt");
  CHECK(n1->contents->partitions == 2);
  CHECK(n1->contents->Describe() == "gpt partition table with 2 partitions; nvme1n1p2 ext4 'vmdata'");
  REQUIRE(sdc->contents.ok());
  CHECK(sdc->contents->Describe() == "sdc ext4 'olddata'");
  CHECK(sdd->contents->Empty());
  // The report round-trips with the contents.
  nlohmann::json j = r;
  auto back = j.get<HardwareReport>();
  REQUIRE(back.disks.size() == r.disks.size());
  for (size_t i = 0; i < r.disks.size(); ++i) {
    CHECK(back.disks[i].contents == r.disks[i].contents);
    CHECK(back.disks[i].by_path == r.disks[i].by_path);
  }
}

TEST_CASE("install disk: a serial names exactly one empty disk, and the reason says so") {
  TwelveDisks h;
  auto c = ChooseInstallDisk(h.Detect(), Rule("serial = \"S64HNE0R100002\"\n"));
  REQUIRE(c.ok());
  CHECK(c.disk == "nvme2n1");
  CHECK(c.reason == "nvme2n1 is the only disk that matches serial = \"S64HNE0R100002\" (test)");
  CHECK(c.erases.empty());
  CHECK(VerdictFor(c, "nvme1n1").why == "serial is \"S64HNE0R100001\", rule wants \"S64HNE0R100002\"");
  CHECK(VerdictFor(c, "sdg").kind == DiskVerdictKind::kNever);
}

TEST_CASE("install disk: the only matching disk holds a file system and there is no wipe: refused, listed") {
  TwelveDisks h;
  Mkfs(h.Dev("nvme2n1"), "olddata");
  auto hw = h.Detect();
  auto c = ChooseInstallDisk(hw, Rule("serial = \"S64HNE0R100002\"\n"));
  CHECK_FALSE(c.ok());
  CHECK(c.refusal ==
        "the install-disk rule serial = \"S64HNE0R100002\" (test) matches only nvme2n1, which holds a partition "
        "table or file system; nothing is erased unless the rule says wipe = true");
  Error e = InstallDiskRefusal(hw, c);
  CHECK(e.code() == ExitCode::kHostUnsuitable);
  // Every disk is listed with its size, media, transport, model, serial and contents.
  for (const char* d : kDisks) CHECK(e.message().find(std::string("\n  ") + d + "  ") != std::string::npos);
  CHECK(e.message().find("  nvme2n1  3.5 TiB  nvme  nvme  model \"SAMSUNG MZQL23T8HCLS-00A07\"  serial "
                         "\"S64HNE0R100002\"") != std::string::npos);
  CHECK(e.message().find("    holds: nvme2n1 ext4 'olddata'\n    holds data: matches serial") != std::string::npos);
  CHECK(e.message().find("sdg  29 GiB  ssd  usb removable") != std::string::npos);
  CHECK(e.message().find("never: is the boot medium (/run/live/medium is mounted from sdg1)") != std::string::npos);

  SECTION("with wipe = true it is chosen, and what will be erased is named") {
    auto w = ChooseInstallDisk(hw, Rule("serial = \"S64HNE0R100002\"\nwipe = true\n"));
    REQUIRE(w.ok());
    CHECK(w.disk == "nvme2n1");
    CHECK(w.erases == "nvme2n1: nvme2n1 ext4 'olddata'");
  }
  SECTION("as the disk an earlier install of this host began to write, it is chosen again without wipe") {
    auto r = ChooseInstallDisk(hw, Rule("serial = \"S64HNE0R100002\"\n"), "nvme2n1");
    REQUIRE(r.ok());
    CHECK(r.disk == "nvme2n1");
    CHECK(VerdictFor(r, "nvme2n1").why ==
          "matches serial = \"S64HNE0R100002\", holds nvme2n1 ext4 'olddata' (the unfinished write of an earlier "
          "install)");
    // Only that disk: the same rule naming another disk's unfinished write
    // still refuses this one.
    CHECK_FALSE(ChooseInstallDisk(hw, Rule("serial = \"S64HNE0R100002\"\n"), "sda").ok());
  }
}

TEST_CASE("install disk: a rule matching several disks is refused, naming them") {
  TwelveDisks h;
  auto hw = h.Detect();
  auto c = ChooseInstallDisk(hw, Rule("media = \"ssd\"\nmax_gib = 1000\n"));
  CHECK_FALSE(c.ok());
  CHECK(c.refusal ==
        "the install-disk rule max_gib = 1000, media = \"ssd\" (test) matches 4 disks (sdc, sdd, sde, "
        "sdf); it must match exactly one: name it by serial, wwn or by_path");
  CHECK(VerdictFor(c, "sdc").kind == DiskVerdictKind::kCandidate);
  CHECK(VerdictFor(c, "sda").why == "is 7.3 TiB, rule wants at most 1000 GiB");
  CHECK(VerdictFor(c, "nvme0n1").why == "is 3.5 TiB, rule wants at most 1000 GiB");
}

TEST_CASE("install disk: a rule that would pick the USB stick the ISO booted from is refused") {
  TwelveDisks h;
  auto c = ChooseInstallDisk(h.Detect(), Rule("model = \"SanDisk 3.2Gen1\"\nwipe = true\n"));
  CHECK_FALSE(c.ok());
  CHECK(c.refusal ==
        "the install-disk rule model = \"SanDisk 3.2Gen1\", wipe = true (test) matches only sdg, which is "
        "the boot medium (/run/live/medium is mounted from sdg1); Slipway never installs over what it "
        "booted from");
}

TEST_CASE("install disk: the default rule takes the smallest non-rotational fixed disk, ties refused") {
  TwelveDisks h;
  InstallDiskRule def;
  def.origin = "default";
  auto hw = h.Detect();
  auto c = ChooseInstallDisk(hw, def);
  // sdc..sdf are 894 GiB each: a four-way tie.
  CHECK_FALSE(c.ok());
  CHECK(c.refusal.find("matches 4 disks (sdc, sdd, sde, sdf)") != std::string::npos);
  CHECK(VerdictFor(c, "sda").why ==
        "is rotational; the default rule takes non-rotational disks only (set media = \"hdd\")");
  CHECK(VerdictFor(c, "sdh").why.find("is on USB") == 0);
  // Three of them hold data: the empty one is the smallest left.
  Mkfs(h.Dev("sdc"), "a");
  Mkfs(h.Dev("sdd"), "b");
  PartitionGpt(h.Dev("sde"));
  auto c2 = ChooseInstallDisk(h.Detect(), def);
  REQUIRE(c2.ok());
  CHECK(c2.disk == "sdf");
  CHECK(c2.reason.find("sdf is the smallest disk that fits the default rule") == 0);
  CHECK(VerdictFor(c2, "sde").why.find("holds gpt partition table with 2 partitions") != std::string::npos);
}

TEST_CASE("install disk: a disk whose contents cannot be read counts as holding data") {
  TwelveDisks h({"nvme2n1"});
  auto c = ChooseInstallDisk(h.Detect(), Rule("serial = \"S64HNE0R100002\"\n"));
  CHECK_FALSE(c.ok());
  CHECK(VerdictFor(c, "nvme2n1")
            .why.find("holds unknown contents (cannot open /dev/nvme2n1 to read what it holds: No "
                      "such file or directory)") != std::string::npos);
}

TEST_CASE("install disk: a CSV disk is never chosen, even with wipe") {
  TwelveDisks h;
  testing::WriteText(h.t / "proc/self/mountinfo",
                     "20 1 0:30 / / rw,relatime - overlay overlay rw\n"
                     "21 1 8:97 / /run/live/medium ro,relatime - iso9660 /dev/sdg1 ro\n"
                     "22 1 8:16 / /ClusterStorage/Volume1 rw,relatime - ext4 /dev/sdb rw\n");
  auto c = ChooseInstallDisk(h.Detect(), Rule("model = \"ST8000NM017B-2TJ103\"\nwipe = true\n"));
  REQUIRE(c.ok());
  CHECK(c.disk == "sda");
  CHECK(VerdictFor(c, "sdb").kind == DiskVerdictKind::kNever);
  CHECK(VerdictFor(c, "sdb").why == "backs CSV /ClusterStorage/Volume1; shared storage is never an install disk");
}

TEST_CASE("install-disk rules in an answer file: located errors, and the host's rule over [defaults]") {
  auto read = [](const std::string& text, Diagnostics* diags) {
    auto table = ParseTomlText(text, "fleet.toml", diags);
    REQUIRE(table);
    return ReadFleet(*table, "fleet.toml", diags);
  };
  Diagnostics bad;
  read(
      "[defaults]\nhardware_profile = \"smoke\"\n[defaults.install_disk]\nmedia = \"tape\"\nmin_gib = 100\n"
      "max_gib = 50\nserail = \"x\"\n[[host]]\nname = \"a\"\nmac = \"52:54:00:00:00:01\"\n",
      &bad);
  std::vector<std::string> msgs;
  bad.Sort();
  for (const Diagnostic& d : bad.items()) msgs.push_back(FormatDiagnostic(d));
  INFO(Join(msgs, "\n"));
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].find("fleet.toml:4:9: ") == 0);
  CHECK(msgs[0].find("'tape'") != std::string::npos);
  CHECK(msgs[1] == "fleet.toml:6:11: error: 'max_gib' (50) is below 'min_gib' (100); no disk can match");
  CHECK(msgs[2].find("fleet.toml:7:1: ") == 0);
  CHECK(msgs[2].find("did you mean 'serial'") != std::string::npos);

  Diagnostics ok;
  auto fleet = read(
      "[defaults]\nhardware_profile = \"smoke\"\n[defaults.install_disk]\nmedia = \"nvme\"\n"
      "[[host]]\nname = \"a\"\nmac = \"52:54:00:00:00:01\"\n"
      "[[host]]\nname = \"b\"\nmac = \"52:54:00:00:00:02\"\n[host.install_disk]\n"
      "by_path = \"/dev/disk/by-path/pci-0000:00:1f.2-ata-1\"\nwipe = true\n",
      &ok);
  REQUIRE(fleet);
  auto a = ApplyDefaults(fleet->defaults, fleet->hosts[0]);
  auto b = ApplyDefaults(fleet->defaults, fleet->hosts[1]);
  REQUIRE(a.install_disk);
  CHECK(a.install_disk->Describe() == "media = \"nvme\"");
  CHECK(a.install_disk->origin == "answer file fleet.toml [defaults]");
  REQUIRE(b.install_disk);
  CHECK(b.install_disk->Describe() == "by_path = \"pci-0000:00:1f.2-ata-1\", wipe = true");
  CHECK(b.install_disk->origin == "answer file fleet.toml (host 'b')");
  CHECK(EffectiveInstallDiskRule(&a, nullptr)->media == DiskMedia::kNvme);
}

TEST_CASE("preflight and plan show the chosen install disk and why before anything is written, and refusals exit 3") {
  TwelveDisks h;
  Mkfs(h.Dev("nvme2n1"), "olddata");
  auto fleet = [&](bool wipe) {
    testing::WriteText(h.t / "fleet.toml", std::string("[[host]]\nname = \"big\"\nmac = \"b8:ce:f6:12:34:50\"\n"
                                                       "hardware_profile = \"edge-small\"\n[host.install_disk]\n"
                                                       "serial = \"S64HNE0R100002\"\n") +
                                               (wipe ? "wipe = true\n" : ""));
    return h.t / "fleet.toml";
  };
  std::string host = " --sysroot " + h.t.path() + " --fs-usage " + h.t / "statvfs.json";
  auto r = testing::Run(testing::Slipway() + " preflight --profile edge-small" + host + " --answer " + fleet(true));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("Install disk: nvme2n1\n  why: nvme2n1 is the only disk that matches serial = \"S64HNE0R100002\", "
                   "wipe = true (answer file " +
                   h.t / "fleet.toml" + " (host 'big'))\n  erases: nvme2n1: nvme2n1 ext4 'olddata'\n") !=
        std::string::npos);
  CHECK(r.out.find("    chosen: matches serial") != std::string::npos);
  // Nothing was written: the file system is still there.
  CHECK(testing::Run("blkid -s LABEL -o value " + h.Dev("nvme2n1")).out == "olddata\n");

  auto json =
      testing::Run(testing::Slipway() + " preflight --json --profile edge-small" + host + " --answer " + fleet(true));
  auto j = nlohmann::json::parse(json.out);
  CHECK(j["install_disk"]["disk"] == "nvme2n1");
  CHECK(j["install_disk"]["mode"] == "disk");
  CHECK(j["install_disk"]["disks"].size() == 12);

  auto refused =
      testing::Run(testing::Slipway() + " preflight --profile edge-small" + host + " --answer " + fleet(false));
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("matches only nvme2n1, which holds a partition table or file system") != std::string::npos);
  CHECK(refused.out.find("Install disk: REFUSED: the install-disk rule") != std::string::npos);
  CHECK(refused.out.find("\n  sdg  29 GiB  ssd  usb removable") != std::string::npos);

  auto plan = testing::Run(testing::Slipway() + " plan --profile edge-small" + host + " --answer " + fleet(true));
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 0);
  CHECK(plan.out.find(": Install disk: nvme2n1\n  why: nvme2n1 is the only disk") != std::string::npos);
  auto plan_refused =
      testing::Run(testing::Slipway() + " plan --profile edge-small" + host + " --answer " + fleet(false));
  CHECK(plan_refused.exit_code == 3);
  CHECK(plan_refused.err.find("which holds a partition table or file system") != std::string::npos);

  // Without a rule: a live install, and what the default rule would pick.
  auto live = testing::Run(testing::Slipway() + " preflight --profile edge-small" + host);
  CHECK(live.out.find("Install disk: none (live install:") != std::string::npos);
}

TEST_CASE("install disk: a disk in use (mounted, or held by device-mapper) is never chosen") {
  TwelveDisks h;
  testing::WriteText(h.t / "proc/self/mountinfo",
                     "20 1 0:30 / / rw,relatime - overlay overlay rw\n"
                     "21 1 8:97 / /run/live/medium ro,relatime - iso9660 /dev/sdg1 ro\n"
                     "22 1 0:61 / /ClusterStorage/Volume1 rw,relatime - cephfs 10.0.0.5:6789:/csv1 rw\n"
                     "23 1 8:32 / /var/lib/scratch rw,relatime - ext4 /dev/sdc rw\n");
  Sysroot root(h.t.path());
  auto sdd = root.Resolve("/sys/block/sdd");
  REQUIRE(sdd);
  std::filesystem::create_directories(root.Path(*sdd + "/holders/dm-0"));
  auto c = ChooseInstallDisk(h.Detect(), Rule("media = \"ssd\"\nmax_gib = 1000\nwipe = true\n"));
  CHECK(VerdictFor(c, "sdc").kind == DiskVerdictKind::kNever);
  CHECK(VerdictFor(c, "sdc").why == "is in use (/var/lib/scratch is mounted from sdc)");
  CHECK(VerdictFor(c, "sdd").why == "is in use (sdd is held by dm-0)");
  // sde and sdf are left: still two, still refused.
  CHECK(c.refusal.find("matches 2 disks (sde, sdf)") != std::string::npos);
}
