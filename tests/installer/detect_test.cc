// Detection on captured and derived host fixtures, with exact values.
#include "installer/detect/detect.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "common/hash.h"
#include "installer/detect/boot_evidence.h"
#include "installer/detect/mountinfo.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

std::string HostDir(const std::string& name) { return testing::Fixtures() + "/hosts/" + name; }

HardwareReport DetectHost(const std::string& name, std::vector<std::string> extra_csvs = {}) {
  Sysroot root(HostDir(name));
  auto usage = RecordedFsUsage::Load(HostDir(name) + "/statvfs.json");
  REQUIRE(usage.ok());
  auto r = Detect(root, **usage, {std::move(extra_csvs)});
  REQUIRE(r.ok());
  return std::move(*r);
}

const Disk& DiskNamed(const HardwareReport& r, const std::string& name) {
  for (const Disk& d : r.disks) {
    if (d.name == name) return d;
  }
  FAIL("no disk " << name);
  throw;
}

constexpr uint64_t kGiB = 1ull << 30;

}  // namespace

TEST_CASE("the capture of this machine: one virtio boot disk, BIOS, no SMBIOS, no virt flag") {
  auto r = DetectHost("this-machine");
  CHECK(*r.cpu.model == "AMD EPYC");
  CHECK(*r.cpu.sockets == 1);
  CHECK(*r.cpu.cores == 2);
  CHECK(*r.cpu.threads == 2);
  CHECK(*r.cpu.virtualization == false);
  CHECK(r.cpu.kvm_device);
  CHECK(r.cpu.kvm_note.find("does not prove that guests boot") != std::string::npos);
  CHECK(*r.memory_bytes == 24684084ull * 1024);
  REQUIRE(r.disks.size() == 1);  // loop0-7 and zram0 are excluded
  const Disk& vda = r.disks[0];
  CHECK(vda.name == "vda");
  CHECK(vda.dev == "254:0");
  CHECK(*vda.size_bytes == 256 * kGiB);
  CHECK(*vda.logical_sector_bytes == 512);
  CHECK(*vda.physical_sector_bytes == 4096);
  CHECK(vda.transport == "virtio");
  CHECK(*vda.serial == "overlayblk");
  CHECK(vda.model.unknown == "virtio disks report no model");
  CHECK(vda.boot_medium);
  CHECK(vda.boot_reason == "/ is mounted from vda");
  CHECK(r.firmware.boot_mode == "bios");
  CHECK(*r.firmware.secure_boot == false);
  CHECK_FALSE(r.firmware.tpm_present);
  CHECK(r.smbios.serial.unknown == "no SMBIOS data: /sys/class/dmi/id is missing");
  REQUIRE(r.nics.size() == 4);
  CHECK(r.nics[0].name == "eth0");
  CHECK(r.nics[0].physical);
  CHECK(*r.nics[0].mac == "02:fc:00:00:00:01");
  CHECK(*r.nics[0].driver == "virtio_net");
  CHECK(*r.nics[0].link == true);
  CHECK(r.nics[0].speed_mbps.unknown == "the driver reports no speed (-1)");
  CHECK_FALSE(r.nics[1].physical);  // ifb0
  CHECK(r.nics[1].link.unknown ==
        "carrier not readable (interface is down): cannot read /sys/class/net/ifb0/carrier: No such file or directory");
  CHECK(r.gpus.empty());
  CHECK(r.csvs.empty());
  CHECK(r.Macs() == std::vector<std::string>{"02:fc:00:00:00:01"});
}

TEST_CASE("UEFI with Secure Boot on and a TPM 2.0") {
  auto r = DetectHost("uefi-secureboot");
  CHECK(r.firmware.boot_mode == "uefi");
  CHECK(*r.firmware.secure_boot == true);
  CHECK(r.firmware.tpm_present);
  CHECK(*r.firmware.tpm_version == "2.0");
  CHECK(*r.smbios.vendor == "Dell Inc.");
  CHECK(*r.smbios.product == "PowerEdge R750");
  CHECK(*r.smbios.serial == "CZ2345ABCD");
  CHECK(*r.smbios.uuid == "4c4c4544-0042-3510-8052-b4c04f4b4e32");  // lower-cased
  CHECK(*r.cpu.sockets == 2);
  CHECK(*r.cpu.cores == 32);
  CHECK(*r.cpu.threads == 64);
  CHECK(r.cpu.virtualization_flag == "vmx");
  CHECK(*r.memory_bytes == 256 * kGiB);
  const Disk& boot = DiskNamed(r, "nvme0n1");
  CHECK(boot.transport == "nvme");
  CHECK(*boot.model == "Dell BOSS-N1 480GB");
  CHECK(*boot.serial == "PHAB1234005T480BGN");
  CHECK(*boot.wwn == "eui.5cd2e42a81a11f1e");
  REQUIRE(boot.partitions.size() == 2);
  CHECK(boot.partitions[1].name == "nvme0n1p2");
  CHECK(*boot.partitions[1].size_bytes == 479 * kGiB);
  CHECK(boot.boot_reason == "/ is mounted from nvme0n1p2");
  const Disk& sda = DiskNamed(r, "sda");
  CHECK(sda.transport == "sata/scsi");
  CHECK(*sda.serial == "S6ESNE0T123456");  // from VPD page 0x80
  CHECK(*sda.wwn == "naa.5002538f4212a001");
  CHECK(r.DataDisks().size() == 2);
}

TEST_CASE("BIOS only: no Secure Boot, no TPM") {
  auto r = DetectHost("bios-only");
  CHECK(r.firmware.boot_mode == "bios");
  CHECK(*r.firmware.secure_boot == false);
  CHECK_FALSE(r.firmware.tpm_present);
  CHECK(r.firmware.tpm_version.unknown == "no TPM (/sys/class/tpm is empty or missing)");
  CHECK(*r.cpu.cores == 8);
  CHECK(*r.cpu.threads == 16);
  CHECK(*r.memory_bytes == 64 * kGiB);
  CHECK(DiskNamed(r, "vda").boot_medium);
  CHECK(*DiskNamed(r, "vdb").serial == "data-disk-1");
  CHECK(r.DataDisks().size() == 1);
}

TEST_CASE("no virtualization flag is reported as known false, not unknown") {
  auto r = DetectHost("no-virt");
  REQUIRE(r.cpu.virtualization.ok());
  CHECK(*r.cpu.virtualization == false);
  CHECK(r.cpu.virtualization_flag.empty());
}

TEST_CASE("twelve disks: transports, the boot USB stick and what may hold data") {
  auto r = DetectHost("twelve-disks");
  REQUIRE(r.disks.size() == 12);
  std::map<std::string, int> transports;
  for (const Disk& d : r.disks) transports[d.transport]++;
  CHECK(transports == std::map<std::string, int>{{"nvme", 4}, {"sata/scsi", 6}, {"usb", 2}});
  const Disk& stick = DiskNamed(r, "sdg");
  CHECK(stick.boot_medium);
  CHECK(stick.boot_reason == "/run/live/medium is mounted from sdg1");
  CHECK(*stick.removable);
  CHECK(DataDiskProblem(stick) == "holds the boot medium");
  CHECK(DataDiskProblem(DiskNamed(r, "sdh")) == "is on USB");
  CHECK(*DiskNamed(r, "sda").rotational == true);
  CHECK(*DiskNamed(r, "sdc").rotational == false);
  CHECK(*DiskNamed(r, "sda").size_bytes == 7452 * kGiB);
  CHECK(r.DataDisks().size() == 10);
  REQUIRE(r.gpus.size() == 1);
  CHECK(r.gpus[0].pci_address == "0000:c1:00.0");
  CHECK(r.gpus[0].vendor_id == "0x10de");
  CHECK(r.gpus[0].driver == "nvidia");
  CHECK(*r.nics[0].speed_mbps == 25000);  // ens1f0
  CHECK(*r.nics[1].link == false);        // ens1f1 is not cabled
  CHECK(*r.nics[1].driver == "mlx5_core");
}

TEST_CASE("without udev's links, by-path names are derived from sysfs as udev names them, where that is certain") {
  // twelve-disks has no /dev/disk/by-path (a live system without udev).
  auto r = DetectHost("twelve-disks");
  using V = std::vector<std::string>;
  // NVMe behind a bridge: the nearest PCI function and the nsid attribute.
  CHECK(DiskNamed(r, "nvme0n1").by_path == V{"pci-0000:40:00.0-nvme-1"});
  CHECK(DiskNamed(r, "nvme3n1").by_path == V{"pci-0000:43:00.0-nvme-1"});
  // ATA: port_no and the SCSI target, with the older name too.
  CHECK(DiskNamed(r, "sda").by_path == V{"pci-0000:00:17.0-ata-1.0", "pci-0000:00:17.0-ata-1"});
  CHECK(DiskNamed(r, "sde").by_path == V{"pci-0000:00:17.0-ata-5.0", "pci-0000:00:17.0-ata-5"});
  // ata6 has no port_no in this sysroot, and USB names need udev: nothing.
  CHECK(DiskNamed(r, "sdf").by_path.empty());
  CHECK(DiskNamed(r, "sdg").by_path.empty());
  // virtio-blk: the PCI function, plus the virtio- link of udev's rules.
  auto b = DetectHost("bios-only");
  CHECK(DiskNamed(b, "vda").by_path == V{"pci-0000:00:02.0", "virtio-pci-0000:00:02.0"});
  CHECK(DiskNamed(b, "vdb").by_path == V{"pci-0000:00:06.0", "virtio-pci-0000:00:06.0"});
}

TEST_CASE("udev's by-path links, when the sysroot has them, are taken as they are") {
  testing::TempDir t;
  std::filesystem::copy(HostDir("bios-only"), t.path(),
                        std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  std::filesystem::create_directories(t / "dev/disk/by-path");
  std::filesystem::create_symlink("../../vdb", t / "dev/disk/by-path/pci-0000:00:06.0-custom");
  Sysroot root(t.path());
  auto usage = RecordedFsUsage::Load(t / "statvfs.json");
  REQUIRE(usage.ok());
  auto r = Detect(root, **usage, {});
  REQUIRE(r.ok());
  CHECK(DiskNamed(*r, "vdb").by_path == std::vector<std::string>{"pci-0000:00:06.0-custom"});
  // A disk without a link still gets the derived names.
  CHECK(DiskNamed(*r, "vda").by_path == std::vector<std::string>{"pci-0000:00:02.0", "virtio-pci-0000:00:02.0"});
}

TEST_CASE("two CSVs with different free space, one found by file-system type") {
  auto r = DetectHost("two-csvs");
  REQUIRE(r.csvs.size() == 2);
  CHECK(r.csvs[0].path == "/ClusterStorage/Volume1");
  CHECK(r.csvs[0].fs_type == "ocfs2");
  CHECK(r.csvs[0].origin == "ClusterStorage");
  CHECK(*r.csvs[0].size_bytes == 10240 * kGiB);
  CHECK(*r.csvs[0].free_bytes == 9216 * kGiB);
  CHECK(r.csvs[1].path == "/srv/shared");
  CHECK(r.csvs[1].fs_type == "gfs2");
  CHECK(r.csvs[1].origin == "shared-fs");
  CHECK(*r.csvs[1].free_bytes == 100 * kGiB);
  CHECK(r.csvs[0].writable);
  CHECK(r.CsvFreeBytes() == 9316 * kGiB);
  // The id depends on the source, not on where or when it was mounted.
  CHECK(r.csvs[0].id == DetectHost("uefi-secureboot").csvs[0].id);
  CHECK(r.csvs[0].id != r.csvs[1].id);
}

TEST_CASE("a read-only CSV is found but not writable, and its space does not count") {
  auto r = DetectHost("csv-readonly");
  REQUIRE(r.csvs.size() == 2);
  CHECK(r.csvs[1].path == "/ClusterStorage/Volume2");
  CHECK_FALSE(r.csvs[1].writable);
  CHECK(r.csvs[0].writable);
  CHECK(r.CsvFreeBytes() == 500 * kGiB);
}

TEST_CASE("a named CSV folder is added and a missing one is an input error naming the sysroot") {
  auto usage = RecordedFsUsage::Load(HostDir("bios-only") + "/statvfs.json");
  REQUIRE(usage.ok());
  Sysroot root(HostDir("bios-only"));
  auto bad = Detect(root, **usage, {{"/ClusterStorage/Volume9"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == ExitCode::kInput);
  CHECK(bad.error().ToString() == "CSV path '/ClusterStorage/Volume9' does not exist under sysroot " +
                                      HostDir("bios-only") + "; mount the shared volume there or fix the path");
  // A named folder inside an existing CSV mount: unknown usage is a reason, not a 0.
  auto r = Detect(root, **usage, {{"/ClusterStorage/Volume1"}});
  REQUIRE(r.ok());
  CHECK(r->csvs.size() == 1);  // already known: not added twice
  StatvfsUsage real;
  auto r2 = Detect(root, real, {{"/proc"}});
  REQUIRE(r2.ok());
  REQUIRE(r2->csvs.size() == 2);
  CHECK(r2->csvs[1].origin == "named");
  CHECK(r2->csvs[1].size_bytes.ok());  // real statvfs on the fixture folder
}

TEST_CASE("a report survives a JSON round trip, unknown values included") {
  auto r = DetectHost("twelve-disks");
  nlohmann::json j = r;
  CHECK(j["schema"] == "slipway.hardware-report/v1");
  CHECK(j["smbios"]["serial"] == "S4120012345");
  auto back = j.get<HardwareReport>();
  CHECK(nlohmann::json(back) == j);
  auto t = DetectHost("this-machine");
  nlohmann::json tj = t;
  CHECK(tj["smbios"]["uuid"]["unknown"] == "no SMBIOS data: /sys/class/dmi/id is missing");
  CHECK(nlohmann::json(tj.get<HardwareReport>()) == tj);
}

TEST_CASE("mountinfo parsing decodes escapes, optional fields and read-only flags") {
  auto m = ParseMountInfo(
      "36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"
      "37 35 0:52 / /ClusterStorage/Volume2 ro,relatime - nfs4 nas:/x rw\n"
      "garbage\n");
  REQUIRE(m.size() == 2);
  CHECK(m[0].mount_point == "/mnt/my disk");
  CHECK(m[0].root == "/mnt1");
  CHECK(m[0].fs_type == "ext3");
  CHECK(m[0].source == "/dev/root");
  CHECK_FALSE(m[0].ReadOnly());
  CHECK(m[1].ReadOnly());
  CHECK(FindMount(m, "/ClusterStorage/Volume2/images")->fs_type == "nfs4");
  CHECK(FindMount(m, "/ClusterStorage/Volume22") == nullptr);
}

TEST_CASE("a local disk that holds a mounted CSV is shared storage, not a data disk") {
  // The twelve-disk host, with its CSV on local disk sdb (8:16) instead of
  // cephfs: how the installer ISO's boot logic mounts a disk labelled CSV1.
  testing::TempDir t;
  std::filesystem::copy(HostDir("twelve-disks"), t.path(),
                        std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  testing::WriteText(t / "proc/self/mountinfo",
                     "20 1 0:30 / / rw,relatime - overlay overlay rw\n"
                     "21 1 8:97 / /run/live/medium ro,relatime - iso9660 /dev/sdg1 ro\n"
                     "22 1 8:16 / /ClusterStorage/Volume1 rw,relatime - ext4 /dev/sdb rw\n");
  Sysroot root(t.path());
  auto usage = RecordedFsUsage::Load(t / "statvfs.json");
  REQUIRE(usage.ok());
  auto r = Detect(root, **usage, {});
  REQUIRE(r.ok());
  const Disk& sdb = DiskNamed(*r, "sdb");
  CHECK(sdb.csv == "/ClusterStorage/Volume1");
  CHECK(DataDiskProblem(sdb) == "backs CSV /ClusterStorage/Volume1");
  CHECK(DiskNamed(*r, "sdc").csv.empty());
  auto data = r->DataDisks();
  CHECK(std::none_of(data.begin(), data.end(), [](const Disk* d) { return d->name == "sdb"; }));
  CHECK(data.size() == DetectHost("twelve-disks").DataDisks().size() - 1);
  // A report saved before 'csv' existed still loads.
  nlohmann::json j = *r;
  j["disks"][0].erase("csv");
  CHECK(j.get<HardwareReport>().disks[0].csv.empty());
}

TEST_CASE("boot evidence: the command line, the medium's boot files by sha256, and PCRs 4, 7, 8 and 9") {
  testing::TempDir t;
  testing::WriteText(t / "proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz console=ttyS0,115200 slipway.mode=auto\n");
  testing::WriteText(t / "run/slipway/medium/boot/vmlinuz", "kernel");
  testing::WriteText(t / "run/slipway/medium/boot/initrd.img", "initramfs");
  installer::Sysroot s(t.path());
  auto none = installer::ReadBootEvidence(s);
  CHECK(none.cmdline == "BOOT_IMAGE=/boot/vmlinuz console=ttyS0,115200 slipway.mode=auto");
  CHECK(none.files == std::map<std::string, std::string>{{"boot/initrd.img", Sha256Hex("initramfs")},
                                                         {"boot/vmlinuz", Sha256Hex("kernel")}});
  CHECK(none.pcrs.empty());
  CHECK(none.pcr_note == "no TPM");
  std::filesystem::create_directories(t / "sys/class/tpm/tpm0");
  CHECK(installer::ReadBootEvidence(s).pcr_note == "the TPM shows no sha256 PCR bank in sysfs");
  for (const char* pcr : {"4", "7", "8", "9", "10"}) {
    testing::WriteText(t / ("sys/class/tpm/tpm0/pcr-sha256/" + std::string(pcr)), std::string(64, 'A') + "\n");
  }
  auto tpm = installer::ReadBootEvidence(s);
  CHECK(tpm.pcrs.size() == 4);  // 4, 7, 8, 9: not 10 (IMA)
  CHECK(tpm.pcrs["9"] == std::string(64, 'a'));
  CHECK(tpm.pcr_note.empty());
}
