// The disk stage and image builds, checked with libparted, e2fsck, debugfs and
// mtools; two builds must be byte-identical.
#include <parted/parted.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "builder/disk.h"
#include "builder/image_build.h"
#include "common/hash.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::builder;
namespace fs = std::filesystem;

namespace {

// A small tree with a fake kernel and initramfs: enough to check the layout.
void SmallTree(const testing::TempDir& t) {
  testing::WriteText(t / "tree/etc/hostname", "unset\n");
  testing::WriteText(t / "tree/boot/vmlinuz-6.1.0-test", std::string(300000, 'K'));
  testing::WriteText(t / "tree/boot/initrd.img-6.1.0-test", std::string(200000, 'I'));
  testing::WriteText(t / "tree/usr/bin/tool", "#!/bin/sh\n");
  fs::create_symlink("../usr/bin/tool", t / "tree/etc/tool-link");
  testing::WriteText(t / "node.toml",
                     "name = \"small\"\nrole = \"linux-node\"\n[rootfs]\nsource = \"directory\"\npath = \"tree\"\n"
                     "[disk]\nsize_gib = 1\nesp_mib = 64\n[hardening]\nsteps = [\"sysctl\", \"sshd\", "
                     "\"kernel-cmdline\"]\nopen_tcp_ports = [22]\n");
}

ImageDefinition SmallDef(const testing::TempDir& t) {
  ImageDefinition d;
  d.name = "small";
  d.role = ImageRole::kLinuxNode;
  d.rootfs.source = "directory";
  d.rootfs.path = "tree";
  d.disk.size_gib = 1;
  d.disk.esp_mib = 64;
  d.hardening.steps = {"sysctl", "sshd", "kernel-cmdline"};
  d.hardening.open_tcp_ports = {22};
  d.file = t / "node.toml";
  return d;
}

Result<nlohmann::json> Build(const testing::TempDir& t, const std::string& out, long epoch = 1700000000) {
  BuildOptions o;
  o.out_dir = out;
  o.source_date_epoch = epoch;
  return BuildImage(t / "node.toml", SmallDef(t), o);
}

}  // namespace

TEST_CASE("the image has a GPT with a bootable ESP and an ext4 root, read back with libparted") {
  testing::TempDir t;
  SmallTree(t);
  auto m = Build(t, t / "out");
  INFO((m.ok() ? std::string() : m.error().ToString()));
  REQUIRE(m.ok());
  std::string raw = t / "out/small.raw";
  CHECK(fs::file_size(raw) == 1ull << 30);
  PedDevice* dev = ped_device_get(raw.c_str());
  REQUIRE(dev);
  PedDisk* disk = ped_disk_new(dev);
  REQUIRE(disk);
  CHECK(std::string(disk->type->name) == "gpt");
  PedPartition* esp = ped_disk_get_partition(disk, 1);
  PedPartition* root = ped_disk_get_partition(disk, 2);
  REQUIRE((esp && root));
  CHECK(esp->geom.start == 2048);
  CHECK(esp->geom.length == 64 * 2048);
  CHECK(std::string(ped_partition_get_name(esp)) == "ESP");
  CHECK(ped_partition_get_flag(esp, PED_PARTITION_ESP) == 1);
  CHECK(ped_partition_get_flag(esp, PED_PARTITION_LEGACY_BOOT) == 1);
  CHECK(std::string(ped_partition_get_name(root)) == "root");
  CHECK(root->geom.start == 2048 + 64 * 2048);
  CHECK(root->geom.end < dev->length - 33);
  uint64_t root_start = static_cast<uint64_t>(root->geom.start) * 512,
           root_len = static_cast<uint64_t>(root->geom.length) * 512;
  ped_disk_destroy(disk);
  ped_device_destroy(dev);

  // The root file system: e2fsck-clean, with the tree's files and hardening.
  auto dd = testing::Run("dd if=" + raw + " of=" + t / "root.img" + " bs=1M skip=" + std::to_string(root_start >> 20) +
                         " count=" + std::to_string(root_len >> 20) + " status=none");
  REQUIRE(dd.exit_code == 0);
  auto fsck = testing::Run("e2fsck -fn " + t / "root.img");
  INFO(fsck.out << fsck.err);
  CHECK(fsck.exit_code == 0);
  auto cat = testing::Run("debugfs -R 'cat /etc/hostname' " + t / "root.img");
  CHECK(cat.out == "unset\n");
  auto agent = testing::Run("debugfs -R 'cat /usr/lib/slipway/firstboot' " + t / "root.img");
  CHECK(agent.out.find("slipway-firstboot: wrote") != std::string::npos);
  auto setup = testing::Run("debugfs -R 'cat /usr/lib/slipway/node-setup' " + t / "root.img");
  CHECK(setup.out.find("slipway-node-ready") != std::string::npos);
  auto wants = testing::Run("debugfs -R 'ls /etc/systemd/system/multi-user.target.wants' " + t / "root.img");
  CHECK(wants.out.find("slipway-node-setup.service") != std::string::npos);
  auto sshd = testing::Run("debugfs -R 'cat /etc/ssh/sshd_config' " + t / "root.img");
  CHECK(sshd.out.find("PermitRootLogin no") != std::string::npos);
  auto label = testing::Run("debugfs -R stats " + t / "root.img");
  CHECK(label.out.find("Filesystem volume name:   root") != std::string::npos);
  CHECK(label.out.find((*m)["root_fs_uuid"].get<std::string>()) != std::string::npos);

  // The ESP: both boot loaders (UEFI: shim and Debian's signed GRUB, as
  // the packages ship them), the kernel and the configuration.
  auto dir = testing::Run("MTOOLS_SKIP_CHECK=1 mdir -/ -a -b -i " + raw + "@@1M ::");
  INFO(dir.out << dir.err);
  for (const char* f : {"::/EFI/BOOT/BOOTX64.EFI", "::/EFI/BOOT/grubx64.efi", "::/EFI/debian/grub.cfg",
                        "::/syslinux.cfg", "::/ldlinux.sys", "::/vmlinuz", "::/initrd.img"}) {
    CHECK(dir.out.find(f) != std::string::npos);
  }
  for (auto [esp_file, package_file] :
       {std::pair{"::/EFI/BOOT/BOOTX64.EFI", "/usr/lib/shim/shimx64.efi.signed"},
        std::pair{"::/EFI/BOOT/grubx64.efi", "/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"}}) {
    auto copy = testing::Run("MTOOLS_SKIP_CHECK=1 mcopy -i " + raw + "@@1M " + esp_file + " " + t / "loader.efi" +
                             " && cmp " + t / "loader.efi" + " " + package_file + " && rm " + t / "loader.efi");
    INFO(esp_file << copy.out << copy.err);
    CHECK(copy.exit_code == 0);
  }
  auto entry = testing::Run("MTOOLS_SKIP_CHECK=1 mtype -i " + raw + "@@1M ::/EFI/debian/grub.cfg");
  INFO(entry.out);
  CHECK(entry.out.find("linux /vmlinuz root=PARTUUID=" + (*m)["root_partuuid"].get<std::string>()) !=
        std::string::npos);
  CHECK(entry.out.find("initrd /initrd.img") != std::string::npos);
  CHECK(entry.out.find("init_on_alloc=1") != std::string::npos);  // the kernel-cmdline hardening step
  // BIOS boot code in the protective MBR.
  CHECK(testing::Run("cmp -n 440 " + raw + " /usr/lib/SYSLINUX/gptmbr.bin").exit_code == 0);
  // The manifest names every output with its checksum.
  CHECK((*m)["outputs"]["small.raw"]["sha256"] == *Sha256File(raw));
  CHECK((*m)["outputs"]["small.qcow2"]["sha256"] == *Sha256File(t / "out/small.qcow2"));
  CHECK((*m)["hardening"].size() == 3);
  CHECK(testing::ReadText(t / "out/small.manifest.json").find("definition_sha256") != std::string::npos);
}

TEST_CASE("two builds of the same tree and definition are byte-identical") {
  testing::TempDir t;
  SmallTree(t);
  // SOURCE_DATE_EPOCH 0, the default, which e2fsprogs reads as "unset".
  REQUIRE(Build(t, t / "a", 0).ok());
  // A second apart, so that any wall-clock time that leaks into the image
  // (superblock, special inodes, FAT) shows as a difference.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  REQUIRE(Build(t, t / "b", 0).ok());
  CHECK(*Sha256File(t / "a/small.raw") == *Sha256File(t / "b/small.raw"));
  CHECK(*Sha256File(t / "a/small.qcow2") == *Sha256File(t / "b/small.qcow2"));
}

TEST_CASE("a failed build leaves no file that looks like a finished image") {
  testing::TempDir t;
  SmallTree(t);
  fs::remove(t / "tree/boot/initrd.img-6.1.0-test");
  auto m = Build(t, t / "out");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().ToString().find("no /boot/vmlinuz* and /boot/initrd.img*") != std::string::npos);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(t / "out")) left.push_back(e.path().filename().string());
  CHECK(left.empty());
  // A hostile tarball as rootfs: refused, nothing left.
  testing::WriteText(t / "bad.tar", std::string(2048, '\0'));
  BuildOptions o;
  o.out_dir = t / "out2";
  o.rootfs = t / "tree-missing";
  auto r = BuildImage(t / "node.toml", SmallDef(t), o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString().find("rootfs '" + t / "tree-missing" + "' does not exist") != std::string::npos);
  CHECK(fs::is_empty(t / "out2"));
}
