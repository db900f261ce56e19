// slipway build image.
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "builder/harden.h"
#include "builder/image_build.h"
#include "builder/installer_iso.h"
#include "builder/windows_kit.h"
#include "cli/commands.h"
#include "cli/host_context.h"
#include "common/kubernetes.h"

namespace slipway::cli {

namespace {

constexpr const char* kBuildHelp =
    "usage: slipway build image images/NAME.toml --out DIR [--rootfs DIR|TARBALL] [--cache DIR]\n"
    "                                              [--kubernetes BUNDLE]\n"
    "       slipway build harden images/NAME.toml --tree DIR\n\n"
    "Builds a Linux node or load-balancer image: rootfs (the definition's mmdebstrap\n"
    "package list, or --rootfs: a directory, or a tarball extracted securely), the\n"
    "declared hardening steps, the first-boot agent, then a GPT disk (libparted) with\n"
    "an ESP that boots under UEFI (shim and Debian's signed GRUB, with or without\n"
    "Secure Boot) and BIOS (SYSLINUX) and an ext4 root,\n"
    "as DIR/NAME.raw and/or DIR/NAME.qcow2 (the definition's [disk] formats), plus\n"
    "DIR/NAME.manifest.json. --cache DIR keeps the mmdebstrap rootfs (default\n"
    "DIR/.cache). With\n"
    "SOURCE_DATE_EPOCH set (default 0) two builds of the same inputs are byte-identical.\n\n"
    "--kubernetes BUNDLE  a folder or tarball with kubernetes-bundle.toml listing every\n"
    "    file with its kind, version and sha256 (docs/kubernetes-bundle.md). Each file\n"
    "    is checked first; a mismatch names the file and both hashes, and nothing is\n"
    "    written. The linux-node image then carries kubeadm, kubelet (enabled),\n"
    "    kubectl, crictl, the CNI plugins and the image archives, which node-setup\n"
    "    imports into containerd at first boot (no registry). Without it the image\n"
    "    says: no Kubernetes bundle: nodes run etcd and containerd only.\n\n"
    "For role windows-node: --windows-media PATH (a Windows Server ISO, checked for UDF,\n"
    "or an install.wim) [--kubernetes BUNDLE] [--artifacts DIR] writes a hardened\n"
    "autounattend.xml, a first-boot script (the bundle's Windows files, verified, with\n"
    "their sha256s; or, unverified, the files of DIR) and an answer ISO; no Windows\n"
    "image is built.\n\n"
    "Exit codes: 0 built, 1 a tool or write failed, 2 bad definition, input or bundle.\n\n"
    "       slipway build iso images/installer.toml --out FILE.iso [--kernel DIR] [--answer F] [--images DIR]\n"
    "The bootable installer ISO (BIOS, UEFI, USB); see 'slipway build iso --help'.\n";

constexpr const char* kIsoHelp =
    "usage: slipway build iso images/installer.toml --out slipway.iso [--kernel DIR]\n"
    "                         [--answer FLEET.toml] [--images DIR] [--boot DIR]\n\n"
    "Builds the installer ISO: ISO9660 (Rock Ridge, Joliet) with El Torito BIOS\n"
    "(ISOLINUX) and UEFI (an ESP with shim and Debian's signed GRUB, which boot under\n"
    "Secure Boot too) entries and an isohybrid MBR/GPT, written\n"
    "with libisofs. It boots a live system made from this machine (Debian 12):\n"
    "  - an initramfs (static busybox, the [live] kernel modules, the stage-1 init)\n"
    "    that mounts the ISO's /live under a RAM overlay, mounts file systems\n"
    "    labelled CSV<N> at /ClusterStorage/Volume<N>, and starts systemd;\n"
    "  - /live: systemd, dbus-daemon, the [live] programs, slipway and\n"
    "    slipway-installer (from this build), every shared library they need, the\n"
    "    installer's unit and D-Bus policy, profiles/ and firmware/.\n"
    "systemd starts slipway-installer.service, unattended (slipway.mode=auto on the\n"
    "kernel command line, [iso] kernel_cmdline) or with its menu (slipway.mode=interactive).\n"
    "Its state (journal, secrets, report) is kept on the first CSV under\n"
    "slipway-hosts/<SMBIOS UUID> (mac-<MAC> without one), so a reboot resumes and a\n"
    "finished host does not\n"
    "install again (slipway.rerun: run it again; slipway.state=ram: keep it in RAM).\n\n"
    "  --kernel DIR   a root holding boot/vmlinuz-VERSION and lib/modules/VERSION/:\n"
    "                 this machine's / (default) or a linux-image .deb unpacked with\n"
    "                 dpkg-deb -x\n"
    "  --answer FILE  a fleet answer file, at /slipway/answer.toml on the ISO\n"
    "  --images DIR   node images, at /slipway/images (otherwise expected in\n"
    "                 slipway-images/ on a CSV)\n"
    "  --boot DIR     boot DIR's vmlinuz* and initrd.img* as they are, with no live\n"
    "                 system (for testing boot paths)\n\n"
    "SOURCE_DATE_EPOCH (default 0) makes the same inputs give the same bytes.\n"
    "Exit codes: 0 built, 1 a tool or write failed, 2 bad definition or input.\n";

// Reads and validates an image definition; prints every located error.
std::optional<builder::ImageDefinition> LoadDefinition(const std::string& file, Io io) {
  Diagnostics diags;
  std::optional<builder::ImageDefinition> def;
  if (auto t = LoadTomlFile(file, &diags)) def = builder::ReadImageDefinition(*t, file, &diags);
  for (const Diagnostic& d : diags.items()) io.err << RenderDiagnostic(d) << "\n";
  return def;
}

constexpr const char* kHardenHelp =
    "usage: slipway build harden images/NAME.toml --tree DIR\n\nApplies the definition's "
    "hardening steps to the rootfs tree DIR in place (what 'build image' does before the disk).\n";

int RunHarden(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"help"}, {"tree", true}});
  if (args && args->Has("help")) {
    io.out << kHardenHelp;
    return 0;
  }
  if (!args || args->positionals().size() != 1 || !args->Has("tree")) {
    return UsageError("build harden", args ? Error::Input("give one definition file and --tree DIR") : args.error(),
                      kHardenHelp, io);
  }
  std::string file = args->positionals()[0];
  auto def = LoadDefinition(file, io);
  if (!def) return 2;
  auto records = builder::Harden(args->Get("tree"), *def);
  if (!records) return ReportError("build harden", records.error(), io);
  for (const auto& r : *records) io.out << r.step << ": " << r.changes.size() << " change(s)\n";
  return 0;
}

int RunIso(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(
      argv, {{"help"}, {"out", true}, {"boot", true}, {"kernel", true}, {"answer", true}, {"images", true}});
  if (args && args->Has("help")) {
    io.out << kIsoHelp;
    return 0;
  }
  if (!args || args->positionals().size() != 1 || !args->Has("out")) {
    return UsageError("build iso", args ? Error::Input("give images/installer.toml and --out FILE.iso") : args.error(),
                      kIsoHelp, io);
  }
  if (args->Has("boot") && args->Has("kernel")) {
    return UsageError("build iso", Error::Input("--boot and --kernel exclude each other"), kIsoHelp, io);
  }
  std::string file = args->positionals()[0];
  auto def = LoadDefinition(file, io);
  if (!def) return 2;
  builder::IsoBuildOptions o;
  o.out = args->Get("out");
  o.boot_dir = args->Get("boot");
  o.kernel_root = args->Get("kernel", "/");
  o.answer = args->Get("answer");
  o.images_dir = args->Get("images");
  o.data_dir = DataDir();
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH")) o.source_date_epoch = std::atol(e);
  if (o.boot_dir.empty()) {
    // The live root carries this build's own programs.
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::string installer = self.parent_path().string() + "/slipway-installer";
    if (ec || !std::filesystem::exists(installer)) {
      return ReportError("build iso",
                         Error::Input("slipway-installer is not next to this slipway (" + self.parent_path().string() +
                                      "); build both ('make build')"),
                         io);
    }
    o.slipway_programs = {self.string(), installer};
  }
  io.out << "building " << o.out << "\n" << std::flush;
  auto built = builder::BuildInstallerIso(*def, o);
  if (!built) return ReportError("build iso", built.error(), io);
  if (o.boot_dir.empty()) {
    const auto& l = built->live;
    io.out << "  kernel " << l.kernel_version << ", initramfs " << (l.initrd_bytes >> 10) << " KiB with " << l.modules
           << " module(s)\n"
           << "  live root: " << l.programs << " program(s), " << l.libraries << " librar"
           << (l.libraries == 1 ? "y" : "ies") << ", " << l.files << " files, " << (l.live_bytes >> 20) << " MiB\n";
  }
  if (built->host_system_bytes > 0) {
    io.out << "  host system for local-disk installs: system image " << (built->host_system_bytes >> 20) << " MiB, ESP "
           << (built->host_esp_bytes >> 20) << " MiB\n";
  }
  io.out << "  " << o.out << "  " << (built->iso_bytes >> 20) << " MiB\n";
  return 0;
}

}  // namespace

int RunBuild(std::span<char* const> argv, Io io) {
  if (argv.empty() || std::string_view(argv[0]) == "--help") {
    io.out << kBuildHelp;
    return argv.empty() ? 2 : 0;
  }
  std::string what = argv[0];
  if (what == "harden") return RunHarden(argv.subspan(1), io);
  if (what == "iso") return RunIso(argv.subspan(1), io);
  if (what != "image") {
    return UsageError("build",
                      Error::Input("unknown 'build " + what + "'; use 'build image', 'build harden' or 'build iso'"),
                      kBuildHelp, io);
  }
  auto args = Args::Parse(argv.subspan(1), {{"help"},
                                            {"out", true},
                                            {"rootfs", true},
                                            {"cache", true},
                                            {"windows-media", true},
                                            {"artifacts", true},
                                            {"kubernetes", true}});
  if (!args) return UsageError("build image", args.error(), kBuildHelp, io);
  if (args->Has("help")) {
    io.out << kBuildHelp;
    return 0;
  }
  if (args->positionals().size() != 1 || !args->Has("out")) {
    return UsageError("build image", Error::Input("give one definition file and --out DIR"), kBuildHelp, io);
  }
  std::string file = args->positionals()[0];
  auto def = LoadDefinition(file, io);
  if (!def) return 2;
  if (def->role == builder::ImageRole::kWindowsNode) {
    if (!args->Has("windows-media")) {
      return UsageError("build image",
                        Error::Input("a windows-node image needs --windows-media PATH (a Windows Server "
                                     "ISO or install.wim you supply)"),
                        kBuildHelp, io);
    }
    builder::WindowsKitOptions ko;
    ko.artifacts_dir = args->Get("artifacts");
    ko.kubernetes_bundle = args->Get("kubernetes");
    auto st = builder::BuildWindowsKit(*def, args->Get("windows-media"), ko, args->Get("out"));
    if (!st) return ReportError("build image", st.error(), io);
    io.out << (ko.kubernetes_bundle.empty() ? std::string(kNoKubernetesBundle)
                                            : "Kubernetes bundle " + ko.kubernetes_bundle + ": Windows files verified")
           << "\n";
    io.out << "  " << args->Get("out") << "/autounattend.xml\n  " << args->Get("out") << "/firstboot.ps1\n  "
           << args->Get("out") << "/" << def->name << "-answer.iso\n";
    return 0;
  }
  builder::BuildOptions o;
  o.out_dir = args->Get("out");
  o.rootfs = args->Get("rootfs");
  o.cache_dir = args->Get("cache");
  o.kubernetes_bundle = args->Get("kubernetes");
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH")) o.source_date_epoch = std::atol(e);
  io.out << "building " << def->name << " (" << builder::ToString(def->role) << ") into " << o.out_dir << "\n"
         << std::flush;
  auto manifest = builder::BuildImage(file, *def, o);
  if (!manifest) return ReportError("build image", manifest.error(), io);
  for (const auto& [name, info] : (*manifest)["outputs"].items()) {
    io.out << "  " << o.out_dir << "/" << name << "  sha256 " << info["sha256"].get<std::string>() << "\n";
  }
  if (const auto& k = (*manifest)[kImageManifestKubernetes]; k.is_object()) {
    io.out << (k.value("bundle", false) ? "  Kubernetes " + k["version"].get<std::string>() + " from the bundle: " +
                                              std::to_string(k["files"].size()) + " file(s) verified and placed"
                                        : std::string(kNoKubernetesBundle))
           << "\n";
  }
  io.out << "  " << o.out_dir << "/" << def->name << ".manifest.json\n"
         << "built in " << (*manifest)["build_seconds"].get<double>() << " s\n";
  return 0;
}

}  // namespace slipway::cli
