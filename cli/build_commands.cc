// slipway build image.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <ostream>

#include "builder/harden.h"
#include "builder/image_build.h"
#include "builder/installer_iso.h"
#include "builder/windows_kit.h"
#include "cli/commands.h"
#include "cli/host_context.h"

namespace slipway::cli {

namespace {

constexpr const char* kBuildHelp =
    "usage: slipway build image images/NAME.toml --out DIR [--rootfs DIR|TARBALL] [--cache DIR]\n"
    "       slipway build harden images/NAME.toml --tree DIR\n\n"
    "Builds a Linux node or load-balancer image: rootfs (the definition's mmdebstrap\n"
    "package list, or --rootfs: a directory, or a tarball extracted securely), the\n"
    "declared hardening steps, the first-boot agent, then a GPT disk (libparted) with\n"
    "an ESP that boots under UEFI (systemd-boot) and BIOS (SYSLINUX) and an ext4 root,\n"
    "as DIR/NAME.raw and DIR/NAME.qcow2, plus DIR/NAME.manifest.json. With\n"
    "SOURCE_DATE_EPOCH set (default 0) two builds of the same inputs are byte-identical.\n\n"
    "For role windows-node: --windows-media PATH (a Windows Server ISO, checked for UDF,\n"
    "or an install.wim) [--artifacts DIR] writes a hardened autounattend.xml, a first-boot\n"
    "script (artifact sha256s from DIR) and an answer ISO; no Windows image is built.\n\n"
    "       slipway build iso images/installer.toml --out FILE.iso --boot DIR [--answer F] [--images DIR]\n"
    "The ISO boots a given kernel and initramfs; putting slipway itself into a live\n"
    "initramfs is not built yet.\n";

// Reads and validates an image definition; prints every located error.
std::optional<builder::ImageDefinition> LoadDefinition(const std::string& file, Io io) {
  Diagnostics diags;
  std::optional<builder::ImageDefinition> def;
  if (auto t = LoadTomlFile(file, &diags)) def = builder::ReadImageDefinition(*t, file, &diags);
  for (const Diagnostic& d : diags.items()) io.err << RenderDiagnostic(d) << "\n";
  return def;
}

int RunHarden(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"help"}, {"tree", true}});
  if (!args || args->positionals().size() != 1 || !args->Has("tree")) {
    return UsageError("build harden", args ? Error::Input("give one definition file and --tree DIR") : args.error(),
                      "usage: slipway build harden images/NAME.toml --tree DIR\n\nApplies the definition's "
                      "hardening steps to the rootfs tree DIR in place (what 'build image' does before the disk).\n",
                      io);
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
  auto args = Args::Parse(argv, {{"help"}, {"out", true}, {"boot", true}, {"answer", true}, {"images", true}});
  if (!args || args->positionals().size() != 1 || !args->Has("out") || !args->Has("boot")) {
    return UsageError(
        "build iso", args ? Error::Input("give images/installer.toml, --out FILE.iso and --boot DIR") : args.error(),
        "usage: slipway build iso images/installer.toml --out slipway.iso --boot DIR [--answer FLEET.toml]"
        " [--images DIR]\n\nDIR holds the installer's vmlinuz* and initrd.img*. Writes an ISO9660 image"
        " (Rock Ridge, Joliet) with El Torito BIOS (ISOLINUX) and UEFI (systemd-boot ESP) entries and an"
        " isohybrid MBR/GPT, with libisofs.\n",
        io);
  }
  std::string file = args->positionals()[0];
  auto def = LoadDefinition(file, io);
  if (!def) return 2;
  builder::IsoBuildOptions o;
  o.out = args->Get("out");
  o.boot_dir = args->Get("boot");
  o.answer = args->Get("answer");
  o.images_dir = args->Get("images");
  o.data_dir = DataDir();
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH")) o.source_date_epoch = std::atol(e);
  if (auto st = builder::BuildInstallerIso(*def, o); !st) return ReportError("build iso", st.error(), io);
  io.out << o.out << "\n";
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
    return UsageError("build", Error::Input("'build " + what + "' is not built yet; only 'build image' is"), kBuildHelp,
                      io);
  }
  auto args = Args::Parse(
      argv.subspan(1),
      {{"help"}, {"out", true}, {"rootfs", true}, {"cache", true}, {"windows-media", true}, {"artifacts", true}});
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
  if (def->role == "windows-node") {
    if (!args->Has("windows-media")) {
      return UsageError("build image",
                        Error::Input("a windows-node image needs --windows-media PATH (a Windows Server "
                                     "ISO or install.wim you supply)"),
                        kBuildHelp, io);
    }
    auto st = builder::BuildWindowsKit(*def, args->Get("windows-media"), args->Get("artifacts"), args->Get("out"));
    if (!st) return ReportError("build image", st.error(), io);
    io.out << "  " << args->Get("out") << "/autounattend.xml\n  " << args->Get("out") << "/firstboot.ps1\n  "
           << args->Get("out") << "/" << def->name << "-answer.iso\n";
    return 0;
  }
  builder::BuildOptions o;
  o.out_dir = args->Get("out");
  o.rootfs = args->Get("rootfs");
  o.cache_dir = args->Get("cache");
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH")) o.source_date_epoch = std::atol(e);
  io.out << "building " << def->name << " (" << def->role << ") into " << o.out_dir << "\n" << std::flush;
  auto manifest = builder::BuildImage(file, *def, o);
  if (!manifest) return ReportError("build image", manifest.error(), io);
  for (const auto& [name, info] : (*manifest)["outputs"].items()) {
    io.out << "  " << o.out_dir << "/" << name << "  sha256 " << info["sha256"].get<std::string>() << "\n";
  }
  io.out << "  " << o.out_dir << "/" << def->name << ".manifest.json\n"
         << "built in " << (*manifest)["build_seconds"].get<double>() << " s\n";
  return 0;
}

}  // namespace slipway::cli
