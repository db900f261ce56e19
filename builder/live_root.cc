// The installer ISO's live system: initramfs (stage 1) and live root (stage 2).
#include "builder/live_root.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "builder/elf_deps.h"
#include "builder/kernel_modules.h"
#include "builder/staging.h"
#include "common/atomic_file.h"
#include "common/strings.h"
#include "common/subprocess.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

// The live root is merged-/usr, like Debian 12: /bin, /sbin, /lib and /lib64
// are symlinks into /usr, so every file is placed under /usr.
std::string UnderUsr(const std::string& target) {
  for (const char* top : {"/bin/", "/sbin/", "/lib/", "/lib64/"}) {
    if (StartsWith(target, top)) return "/usr" + target;
  }
  return target;
}

Status Symlink(const std::string& target, const std::string& link) {
  std::error_code ec;
  fs::create_directories(fs::path(link).parent_path(), ec);
  fs::remove(link, ec);
  fs::create_symlink(target, link, ec);
  if (ec) return Error::Runtime("cannot create symlink " + link + ": " + ec.message());
  return Ok();
}

Status Text(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  return WriteFileAtomic(path, text, mode);
}

// libvirt's users, as Debian's libvirt-daemon-system makes them: QEMU runs as
// libvirt-qemu (libvirt's DAC model), dnsmasq as libvirt-dnsmasq; kvm owns
// /dev/kvm (stage 1 sets it).
constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "messagebus:x:100:101::/nonexistent:/usr/sbin/nologin\n"
    "libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n"
    "libvirt-dnsmasq:x:64056:64056:Libvirt Dnsmasq:/var/lib/libvirt/dnsmasq:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr const char* kGroup =
    "root:x:0:\nmessagebus:x:101:\nlibvirt-qemu:x:64055:\nlibvirt-dnsmasq:x:64056:\nkvm:x:64057:libvirt-qemu\n"
    "nogroup:x:65534:\n";

// libvirtd on the live system: root only, on its local socket (no polkit
// here); QEMU as libvirt-qemu, without a mount namespace per guest or a
// security driver (the live system has neither AppArmor nor SELinux); swtpm
// (the vTPMs of uefi-secure VMs) as root, as the live root has no tss user.
constexpr const char* kLibvirtdConf =
    "# Slipway live system\nauth_unix_ro = \"none\"\nauth_unix_rw = \"none\"\n"
    "unix_sock_ro_perms = \"0700\"\nunix_sock_rw_perms = \"0700\"\n";
constexpr const char* kQemuConf =
    "# Slipway live system\nuser = \"libvirt-qemu\"\ngroup = \"libvirt-qemu\"\ndynamic_ownership = 1\n"
    "namespaces = [ ]\nsecurity_driver = \"none\"\nswtpm_user = \"root\"\nswtpm_group = \"root\"\n";

// Stage 2: the live root under `live`.
Status StageLiveRoot(const LiveSpec& spec, const LiveInputs& in, const std::string& live, LiveSummary* sum) {
  std::error_code ec;
  for (const char* d : {"usr/bin",
                        "usr/sbin",
                        "usr/lib",
                        "usr/lib64",
                        "etc",
                        "proc",
                        "sys",
                        "dev",
                        "run",
                        "tmp",
                        "var/lib/slipway",
                        "var/tmp",
                        "root",
                        "ClusterStorage",
                        "mnt",
                        "var/lib/libvirt/qemu",
                        "var/lib/libvirt/dnsmasq",
                        "var/lib/libvirt/network",
                        "var/cache/libvirt",
                        "var/log/libvirt",
                        "etc/libvirt/qemu/networks/autostart",
                        "etc/libvirt/storage/autostart"}) {
    fs::create_directories(live + "/" + d, ec);
  }
  fs::permissions(live + "/tmp", fs::perms::all | fs::perms::sticky_bit, ec);
  fs::permissions(live + "/root", fs::perms::owner_all, ec);
  for (const char* top : {"bin", "sbin", "lib", "lib64"}) {
    if (auto st = Symlink(std::string("usr/") + top, live + "/" + top); !st) return st;
  }
  if (auto st = Symlink("../run", live + "/var/run"); !st) return st;
  // Programs and their libraries.
  std::vector<std::string> programs = spec.programs;
  programs.insert(programs.end(), in.slipway_programs.begin(), in.slipway_programs.end());
  auto closure = ElfClosure(programs);
  if (!closure) return std::move(closure).error().Context("collecting the live root's programs and libraries");
  std::set<std::string> program_sources;
  for (const std::string& p : programs) program_sources.insert(fs::canonical(p, ec).string());
  std::set<std::string> slipway_sources;
  for (const std::string& p : in.slipway_programs) slipway_sources.insert(fs::canonical(p, ec).string());
  for (const ElfFile& f : *closure) {
    // Slipway's own programs come from the build tree and go to /usr/bin.
    std::string target =
        slipway_sources.count(f.source) ? "/usr/bin/" + fs::path(f.source).filename().string() : UnderUsr(f.target);
    if (slipway_sources.count(f.source)) {
      // Without the debug sections (two thirds of a RelWithDebInfo build):
      // the live root has no debugger, and the ISO is smaller by ~75 MB.
      std::error_code mk;
      fs::create_directories(fs::path(live + target).parent_path(), mk);
      auto r = RunCommand({"objcopy", "--strip-debug", f.source, live + target}, {});
      if (!r) return std::move(r).error().Context("staging " + f.source);
    } else if (auto st = StageFile(f.source, live + target); !st) {
      return st;
    }
    ++(program_sources.count(f.source) ? sum->programs : sum->libraries);
  }
  // Data files of those programs, as they are on the build machine.
  for (const std::string& f : spec.files) {
    if (auto st = StageFile(fs::canonical(f, ec).string(), live + UnderUsr(f)); !st || ec) {
      return Error::Input("[live] files: cannot copy " + f + (ec ? ": " + ec.message() : ""));
    }
  }
  // Slipway's unit, D-Bus policy and data.
  const std::string& data = in.data_dir;
  for (auto [src, dst] : std::vector<std::pair<std::string, std::string>>{
           {data + "/installer/systemd/slipway-installer.service", "/usr/lib/systemd/system/slipway-installer.service"},
           {data + "/installer/systemd/libvirtd.service", "/usr/lib/systemd/system/libvirtd.service"},
           {data + "/installer/systemd/virtlogd.service", "/usr/lib/systemd/system/virtlogd.service"},
           {data + "/installer/dbus/org.slipway.Installer1.conf",
            "/usr/share/dbus-1/system.d/org.slipway.Installer1.conf"},
           {data + "/profiles", "/usr/share/slipway/profiles"},
           {data + "/firmware/firmware.toml", "/usr/share/slipway/firmware/firmware.toml"}}) {
    if (auto st = StageFile(src, live + dst); !st) return st;
  }
  // systemd boots multi-user.target: the system bus and the installer.
  std::string units = live + "/usr/lib/systemd/system";
  for (auto [target, link] : std::vector<std::pair<std::string, std::string>>{
           {"multi-user.target", units + "/default.target"},
           {"../slipway-installer.service", units + "/multi-user.target.wants/slipway-installer.service"},
           {"../libvirtd.service", units + "/multi-user.target.wants/libvirtd.service"},
           {"../virtlogd.service", units + "/multi-user.target.wants/virtlogd.service"},
           // libvirt runs iptables for NAT networks; Debian's iptables is the nft multi-call binary.
           {"xtables-nft-multi", live + "/usr/sbin/iptables"},
           {"xtables-nft-multi", live + "/usr/sbin/ip6tables"},
           {"xtables-nft-multi", live + "/usr/sbin/iptables-save"},
           {"xtables-nft-multi", live + "/usr/sbin/iptables-restore"},
           {"../dbus.socket", units + "/sockets.target.wants/dbus.socket"}}) {
    if (auto st = Symlink(target, link); !st) return st;
  }
  // /bin/sh: Debian 12's libparted (the GPT writer's, in slipway and
  // slipway-installer) runs popen("dmidecode ...") when it loads and
  // crashes on a NULL when /bin/sh is missing; busybox is the shell.
  if (fs::exists(live + "/usr/bin/busybox", ec) && !fs::exists(live + "/usr/bin/sh", ec)) {
    if (auto st = Symlink("busybox", live + "/usr/bin/sh"); !st) return st;
  }
  for (auto [path, text] : std::vector<std::pair<std::string, std::string>>{
           {"/etc/passwd", kPasswd},
           {"/etc/group", kGroup},
           {"/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files\n"},
           {"/etc/hostname", "slipway-installer\n"},
           {"/etc/libvirt/libvirtd.conf", kLibvirtdConf},
           {"/etc/libvirt/qemu.conf", kQemuConf},
           {"/etc/libvirt/virtlogd.conf", "# Slipway live system: defaults\n"},
           {"/etc/machine-id", ""},  // empty: systemd makes one at boot
           {"/etc/os-release", "NAME=\"Slipway installer\"\nID=slipway\nVERSION_ID=\"" SLIPWAY_VERSION
                               "\"\nPRETTY_NAME=\"Slipway installer " SLIPWAY_VERSION "\"\n"},
           // The installer owns the console: systemd reports only failures there.
           {"/etc/systemd/system.conf.d/50-slipway-live.conf", "[Manager]\nShowStatus=error\n"},
           // There is no journal in the live system; dbus-daemon logs to syslog only anyway.
           {"/etc/systemd/system/dbus.service.d/50-slipway-live.conf", "[Service]\nStandardOutput=null\n"}}) {
    if (auto st = Text(live + path, text); !st) return st;
  }
  for (auto it = fs::recursive_directory_iterator(live, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && !it->is_symlink()) {
      ++sum->files;
      sum->live_bytes += it->file_size();
    }
  }
  return Ok();
}

// Stage 1: the initramfs.
Status StageInitramfs(const LiveSpec& spec, const LiveInputs& in, const KernelTree& kernel, const std::string& out,
                      LiveSummary* sum) {
  auto busybox = ReadElf(spec.busybox);
  if (!busybox) return std::move(busybox).error().Context("[live] busybox");
  if (!busybox->interpreter.empty() || !busybox->needed.empty()) {
    return Error::Input("[live] busybox = \"" + spec.busybox +
                        "\" is dynamically linked; the initramfs needs a static one (Debian's busybox-static)");
  }
  auto order = ModuleLoadOrder(kernel, spec.modules);
  if (!order) return std::move(order).error().Context("[live] modules");
  using K = CpioEntry::Kind;
  std::vector<CpioEntry> e;
  for (const char* d :
       {"bin", "dev", "etc", "etc/slipway", "lib", "lib/modules", "newroot", "proc", "run", "sys", "tmp"}) {
    e.push_back({K::kDir, d, "", "", 0755});
  }
  e.push_back({K::kCharDevice, "dev/console", "", "", 0600, 5, 1});
  e.push_back({K::kFile, "init", in.data_dir + "/installer/live/init", "", 0755});
  e.push_back({K::kFile, "bin/busybox", spec.busybox, "", 0755});
  e.push_back({K::kSymlink, "bin/sh", "", "busybox", 0777});
  std::set<std::string> dirs;
  for (const std::string& m : *order) {
    for (fs::path p = fs::path(m).parent_path(); !p.empty(); p = p.parent_path()) dirs.insert(p.string());
    e.push_back({K::kFile, "lib/modules/" + m, kernel.modules_dir + "/" + m, "", 0644});
  }
  for (const std::string& d : dirs) e.push_back({K::kDir, "lib/modules/" + d, "", "", 0755});
  e.push_back({K::kFile, "etc/slipway/modules", "", Join(*order, "\n") + "\n", 0644});
  e.push_back({K::kFile, "etc/slipway/medium-label", "", in.medium_label + "\n", 0644});
  sum->modules = order->size();
  if (auto st = WriteInitramfs(std::move(e), in.source_date_epoch, out); !st) return st;
  sum->initrd_bytes = fs::file_size(out);
  return Ok();
}

}  // namespace

Status WriteInitramfs(std::vector<CpioEntry> entries, long mtime, const std::string& out) {
  std::sort(entries.begin(), entries.end(), [](const CpioEntry& a, const CpioEntry& b) { return a.path < b.path; });
  std::string tmp = out + ".partial";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::Errno("cannot create", tmp, errno);
  archive* a = archive_write_new();
  archive_write_set_format_cpio_newc(a);
  archive_write_add_filter_gzip(a);
  archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);  // no mtime in the gzip header
  archive_write_set_bytes_in_last_block(a, 1);
  Status st = Ok();
  if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
    st = Error::Runtime(std::string("libarchive: ") + archive_error_string(a));
  for (const CpioEntry& c : entries) {
    if (!st) break;
    std::string body = c.content;
    if (c.kind == CpioEntry::Kind::kFile && !c.source.empty()) {
      auto r = ReadFile(c.source);
      if (!r) {
        st = std::move(r).error().Context("initramfs entry /" + c.path);
        break;
      }
      body = std::move(*r);
    }
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, c.path.c_str());
    archive_entry_set_mtime(e, mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_nlink(e, c.kind == CpioEntry::Kind::kDir ? 2 : 1);
    archive_entry_set_size(e, 0);
    switch (c.kind) {
      case CpioEntry::Kind::kDir:
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case CpioEntry::Kind::kFile:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(body.size()));
        break;
      case CpioEntry::Kind::kSymlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, c.content.c_str());
        break;
      case CpioEntry::Kind::kCharDevice:
        archive_entry_set_filetype(e, AE_IFCHR);
        archive_entry_set_rdevmajor(e, c.major);
        archive_entry_set_rdevminor(e, c.minor);
        break;
    }
    archive_entry_set_perm(e, c.mode);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (c.kind == CpioEntry::Kind::kFile && !body.empty() &&
         archive_write_data(a, body.data(), body.size()) != static_cast<la_ssize_t>(body.size()))) {
      st = Error::Runtime("libarchive: writing /" + c.path + ": " + archive_error_string(a));
    }
    archive_entry_free(e);
  }
  if (st && archive_write_close(a) != ARCHIVE_OK)
    st = Error::Runtime(std::string("libarchive: ") + archive_error_string(a));
  archive_write_free(a);
  if (!st) {
    ::close(fd);
    std::error_code ec;
    fs::remove(tmp, ec);
    return std::move(st).error().Context("writing " + out);
  }
  return CommitTempFile(fd, tmp, out);
}

Result<LiveSummary> StageLiveSystem(const LiveSpec& spec, const LiveInputs& in, const std::string& stage) {
  LiveSummary sum;
  auto kernel = FindKernel(in.kernel_root);
  if (!kernel) return std::move(kernel).error();
  sum.kernel_version = kernel->version;
  std::error_code ec;
  fs::create_directories(stage + "/boot", ec);
  if (auto st = StageFile(kernel->image, stage + "/boot/vmlinuz"); !st) return std::move(st).error();
  if (auto st = StageInitramfs(spec, in, *kernel, stage + "/boot/initrd.img", &sum); !st) {
    return std::move(st).error();
  }
  if (auto st = StageLiveRoot(spec, in, stage + "/live", &sum); !st) return std::move(st).error();
  return sum;
}

}  // namespace slipway::builder
