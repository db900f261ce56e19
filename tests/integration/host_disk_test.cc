// Writing the host disk (installer/apply/host_disk.h) for real: the
// builder's host system (an ext4 image of a small live tree and the ESP with
// shim, GRUB and SYSLINUX) written by libparted, mke2fs and the image copy
// onto a sparse file that stands for the disk, then read back with libparted,
// e2fsck, debugfs, blkid and mtools. A power cut before any step, and a
// failing journal write, leave a disk that boots nothing and a journal that
// names the step; the rerun gives the same bytes as a write never cut.
#include "installer/apply/host_disk.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "builder/host_system.h"
#include "common/gpt_disk.h"
#include "common/hash.h"
#include "common/host_system.h"
#include "common/strings.h"
#include "fault_file_ops.h"
#include "gpt_read.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kDiskBytes = 4ull << 30;

// The ISO's host system, staged by the builder from a tiny live tree.
struct HostSystem {
  testing::TempDir t;
  std::string dir;
  HostSystemManifest manifest;
  HostSystem() {
    std::string stage = t / "stage";
    fs::create_directories(stage + "/live/usr/bin");
    fs::create_directories(stage + "/live/etc/libvirt");
    fs::create_directories(stage + "/boot");
    testing::WriteText(stage + "/live/usr/bin/hello", "#!/bin/sh\necho hello from system A\n");
    testing::WriteText(stage + "/live/etc/libvirt/libvirtd.conf", "# the live root's\n");
    testing::WriteText(stage + "/boot/vmlinuz", std::string(3 << 20, 'k'));
    testing::WriteText(stage + "/boot/initrd.img", std::string(2 << 20, 'i'));
    auto sum =
        builder::StageHostSystem(stage, "console=ttyS0,115200 slipway.mode=auto", "TEST", 1700000000, true, true);
    INFO((sum ? "" : sum.error().ToString()));
    REQUIRE(sum.ok());
    dir = stage + "/" + kHostSystemDir;
    auto m = ReadHostSystemManifest(dir);
    REQUIRE(m.ok());
    manifest = *m;
  }
};

const HostSystem& Shared() {
  static HostSystem h;
  return h;
}

struct Disk {
  testing::TempDir t;
  std::string path = t / "disk.img";
  std::string state = t / "state";
  Disk() {
    testing::WriteText(path, "");
    fs::resize_file(path, kDiskBytes);
    fs::create_directories(state);
  }
  HostDiskJob Job(int attempt = 1) const {
    const HostSystem& h = Shared();
    auto layout = PlanHostDiskLayout("vda", kDiskBytes, h.manifest.esp.bytes, h.manifest.system.bytes);
    REQUIRE(layout.ok());
    HostDiskJob job;
    job.disk = "vda";
    job.device = path;
    job.host_system_dir = h.dir;
    job.manifest = h.manifest;
    job.layout = *layout;
    job.seed = "5e1f0a5e-0000-4000-8000-00005e000001:vda";
    job.state_dir = state;
    job.attempt = attempt;
    return job;
  }
  std::string At(HostPart p) const {
    return path + "?offset=" + std::to_string(Job().layout.Of(p).start * kSectorBytes);
  }
};

// The disk's bytes, holes and zeros alike: a SHA-256 over every non-zero
// 64 KiB block with its offset, reading only the file's data extents.
std::string Fingerprint(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  off_t end = ::lseek(fd, 0, SEEK_END);
  std::string acc;
  std::vector<char> buf(64 << 10), zero(64 << 10, 0);
  for (off_t pos = 0; pos < end;) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    for (off_t at = data / 65536 * 65536; at < hole; at += 65536) {
      ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
      if (n <= 0) break;
      if (std::memcmp(buf.data(), zero.data(), static_cast<size_t>(n)) != 0)
        acc = Sha256Hex(acc + std::to_string(at) + std::string(buf.data(), static_cast<size_t>(n)));
    }
    pos = hole;
  }
  ::close(fd);
  return acc;
}

std::string Bytes(const std::string& path, uint64_t off, size_t n) {
  std::string out(n, '\0');
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(::pread(fd, out.data(), n, static_cast<off_t>(off)) == static_cast<ssize_t>(n));
  ::close(fd);
  return out;
}

}  // namespace

TEST_CASE("the host disk holds a GPT with BIOS boot, ESP, system A and B and data, each readable by its own tool") {
  Disk d;
  std::vector<std::string> said;
  HostDiskHooks hooks;
  hooks.status = [&](const std::string& s) { said.push_back(s); };
  auto st = WriteHostDisk(d.Job(), FileOps::Real(), hooks);
  INFO((st ? "" : st.error().ToString()));
  REQUIRE(st.ok());
  // The table, as libparted reads it back: names, flags, MiB-aligned.
  auto table = testing::ReadGpt(d.path);
  REQUIRE(table.size() == 5);
  const long long mib = 2048;
  CHECK(table[0].name == "bios-boot");
  CHECK(table[0].start == mib);
  CHECK(table[0].end == 2 * mib - 1);
  CHECK(table[0].flags == "bios_grub");
  CHECK(table[1].name == "ESP");
  CHECK(table[1].start == 2 * mib);
  CHECK(table[1].end == 50 * mib - 1);
  CHECK(table[1].fs == "fat32");
  CHECK(table[1].flags.find("esp") != std::string::npos);
  CHECK(table[1].flags.find("legacy_boot") != std::string::npos);
  CHECK(table[2].name == "system-a");
  CHECK(table[2].start == 50 * mib);
  CHECK(table[2].end - table[2].start + 1 == 1024 * mib);
  CHECK(table[3].name == "system-b");
  CHECK(table[3].end - table[3].start + 1 == 1024 * mib);
  CHECK(table[4].name == "data");
  CHECK(table[4].start == table[3].end + 1);
  CHECK(table[4].end == 4095 * mib - 1);
  CHECK(table[4].fs == "ext4");
  // System A is the builder's image: the live tree, e2fsck-clean.
  auto fsck = testing::Run("e2fsck -fn '" + d.At(HostPart::kSystemA) + "' 2>&1");
  INFO(fsck.out);
  CHECK(fsck.exit_code == 0);
  auto cat = testing::Run("debugfs -R 'cat /usr/bin/hello' '" + d.At(HostPart::kSystemA) + "' 2>/dev/null");
  CHECK(cat.out == "#!/bin/sh\necho hello from system A\n");
  auto label = testing::Run("blkid -p -o value -s LABEL -O " +
                            std::to_string(d.Job().layout.Of(HostPart::kSystemA).start * 512) + " " + d.path);
  CHECK(Trim(label.out) == kSystemLabel);
  // System B is empty: nothing for blkid to find.
  auto b =
      testing::Run("blkid -p -O " + std::to_string(d.Job().layout.Of(HostPart::kSystemB).start * 512) + " " + d.path);
  CHECK(b.exit_code == 2);
  // The data file system: ext4, labelled, clean, empty.
  auto data_fsck = testing::Run("e2fsck -fn '" + d.At(HostPart::kData) + "' 2>&1");
  INFO(data_fsck.out);
  CHECK(data_fsck.exit_code == 0);
  auto data_label = testing::Run("blkid -p -o value -s LABEL -O " +
                                 std::to_string(d.Job().layout.Of(HostPart::kData).start * 512) + " " + d.path);
  CHECK(Trim(data_label.out) == kDataLabel);
  // The ESP, through mtools: shim, GRUB with its config booting the disk,
  // SYSLINUX.
  std::string esp = d.path + "@@" + std::to_string(d.Job().layout.Of(HostPart::kEsp).start * 512);
  auto grub = testing::Run("MTOOLS_SKIP_CHECK=1 mtype -i '" + esp + "' ::/EFI/debian/grub.cfg");
  CHECK(grub.out.find("slipway.mode=auto slipway.root=disk") != std::string::npos);
  auto dir = testing::Run("MTOOLS_SKIP_CHECK=1 mdir -b -i '" + esp + "' ::/EFI/BOOT");
  CHECK(dir.out.find("BOOTX64.EFI") != std::string::npos);
  CHECK(dir.out.find("grubx64.efi") != std::string::npos);
  auto root = testing::Run("MTOOLS_SKIP_CHECK=1 mdir -a -b -i '" + esp + "' ::/");
  CHECK(root.out.find("ldlinux.sys") != std::string::npos);
  CHECK(root.out.find("vmlinuz") != std::string::npos);
  // The protective MBR carries SYSLINUX's GPT boot code and the signature.
  CHECK(Bytes(d.path, 0, 440) == testing::ReadText(Shared().dir + "/" + kHostMbrCode));
  CHECK(Bytes(d.path, 510, 2) == "\x55\xaa");
  // The journal says written; the console lines name each step.
  auto rec = ReadHostDiskRecord(d.state);
  REQUIRE(rec.ok());
  REQUIRE(rec->has_value());
  CHECK((*rec)->state == "written");
  CHECK((*rec)->disk == "vda");
  CHECK((*rec)->attempt == 1);
  CHECK(said.front() == "Host disk vda: erasing the old partition table");
  CHECK(said.back() == "Host disk vda: committing: BIOS boot code and the boot signature");
  // The same inputs give the same bytes.
  Disk again;
  REQUIRE(WriteHostDisk(again.Job(), FileOps::Real(), {}).ok());
  CHECK(Fingerprint(again.path) == Fingerprint(d.path));
}

TEST_CASE("a host disk write cut before any step boots nothing, names the step, and the rerun gives the same bytes") {
  Disk clean;
  REQUIRE(WriteHostDisk(clean.Job(), FileOps::Real(), {}).ok());
  const std::string want = Fingerprint(clean.path);
  // A disk that held another system first: the rerun must not depend on it.
  Disk d;
  REQUIRE(testing::Run("mkfs.ext4 -q -F -L olddata " + d.path + " 64M").exit_code == 0);
  int attempt = 0;
  for (HostDiskStep cut : HostDiskSteps()) {
    INFO("cut before step " << HostDiskStepName(cut));
    HostDiskHooks hooks;
    hooks.before_step = [&](HostDiskStep s) -> Status {
      if (s == cut) return Error::Runtime("power cut");
      return Ok();
    };
    auto st = WriteHostDisk(d.Job(++attempt), FileOps::Real(), hooks);
    REQUIRE_FALSE(st.ok());
    auto rec = ReadHostDiskRecord(d.state);
    REQUIRE(rec.ok());
    REQUIRE(rec->has_value());
    CHECK((*rec)->state == "writing");
    CHECK((*rec)->step == HostDiskStepName(cut));
    // Not bootable and, once erased, no partitioned disk to the kernel.
    if (cut != HostDiskStep::kInvalidate) CHECK(Bytes(d.path, 510, 2) == std::string(2, '\0'));
  }
  REQUIRE(WriteHostDisk(d.Job(++attempt), FileOps::Real(), {}).ok());
  CHECK(Fingerprint(d.path) == want);
  auto rec = ReadHostDiskRecord(d.state);
  REQUIRE(rec.ok());
  CHECK((*rec)->state == "written");
  CHECK((*rec)->attempt == attempt);
}

TEST_CASE("a failing journal write stops the host disk write before the step it would name") {
  for (int fail_at = 1; fail_at <= 4; ++fail_at) {
    INFO("file op " << fail_at << " fails");
    Disk d;
    testing::FailingFileOps ops(fail_at);
    auto st = WriteHostDisk(d.Job(), ops, {});
    REQUIRE_FALSE(st.ok());
    CHECK((st.error().message().find("No space left on device") != std::string::npos ||
           st.error().message().find("Input/output error") != std::string::npos));
    // Nothing was written to the disk: the first step runs only after its
    // journal entry is durable.
    CHECK(Fingerprint(d.path).empty());
    REQUIRE(WriteHostDisk(d.Job(2), FileOps::Real(), {}).ok());
  }
}

TEST_CASE("a damaged host system image is refused by its sha256 and the disk stays unbootable") {
  testing::TempDir t;
  fs::copy(Shared().dir, t / "host", fs::copy_options::recursive);
  {
    // One byte of the system image changed.
    int fd = ::open((t / "host/system.img").c_str(), O_WRONLY);
    REQUIRE(::pwrite(fd, "X", 1, 2048) == 1);
    ::close(fd);
  }
  Disk d;
  HostDiskJob job = d.Job();
  job.host_system_dir = t / "host";
  auto st = WriteHostDisk(job, FileOps::Real(), {});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().ToString().find("system.img has sha256 ") != std::string::npos);
  CHECK(st.error().ToString().find("the image is damaged; use another copy of the medium") != std::string::npos);
  CHECK(Bytes(d.path, 510, 2) == std::string(2, '\0'));
  auto rec = ReadHostDiskRecord(d.state);
  REQUIRE(rec.ok());
  CHECK((*rec)->step == "system-a");
}
