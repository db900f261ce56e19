// The install-disk section of plan and preflight.
#include "cli/install_disk_view.h"

#include "common/toml_reader.h"
#include "installer/plan/install_disk.h"
#include "installer/service/answer.h"

namespace slipway::cli {

Result<std::optional<installer::FleetHost>> AnswerEntry(const Args& args, const Host& host) {
  if (!args.Has("answer")) return std::optional<installer::FleetHost>();
  Diagnostics diags;
  std::string path = args.Get("answer");
  auto table = LoadTomlFile(path, &diags);
  std::optional<installer::Fleet> fleet;
  if (table) fleet = installer::ReadFleet(*table, path, &diags);
  if (!fleet) {
    std::string msg = "the answer file is not valid:";
    for (const Diagnostic& d : diags.items()) msg += "\n  " + FormatDiagnostic(d);
    return Error::Input(msg);
  }
  auto matched = installer::MatchHost(*fleet, host.report);
  if (!matched) return std::move(matched).error();
  return std::optional<installer::FleetHost>(matched->host);
}

Result<InstallDiskView> ViewInstallDisk(const Args& args, const Host& host, const installer::HardwareProfile* profile) {
  auto answer = AnswerEntry(args, host);
  if (!answer) return std::move(answer).error();
  const std::optional<installer::FleetHost>& entry = *answer;
  InstallDiskView v;
  auto rule = installer::EffectiveInstallDiskRule(entry ? &*entry : nullptr, profile);
  if (!rule) {
    // A live install: the host system stays on the boot medium. Show what the
    // default rule would pick, so that adding [install_disk] holds no surprise.
    installer::InstallDiskRule def;
    def.origin = "default";
    auto c = installer::ChooseInstallDisk(host.report, def);
    v.json = installer::InstallDiskJson(c);
    v.json["mode"] = "live";
    v.text =
        "Install disk: none (live install: no [install_disk] rule in the answer file or the hardware profile; "
        "the installer's state stays on the first CSV)\n  an empty [install_disk] table would choose: " +
        (c.ok() ? c.disk + " (" + c.reason + ")" : "nothing: " + c.refusal) + "\n";
    return v;
  }
  auto c = installer::ChooseInstallDisk(host.report, *rule);
  v.json = installer::InstallDiskJson(c);
  v.json["mode"] = "disk";
  if (c.ok()) {
    v.text = "Install disk: " + c.disk + "\n  why: " + c.reason +
             "\n  erases: " + (c.erases.empty() ? "nothing (the disk is empty)" : c.erases) + "\n" +
             installer::DiskListing(host.report, c, "  ");
  } else {
    v.refused = true;
    v.refusal = installer::InstallDiskRefusal(host.report, c).message();
    v.summary = c.refusal;
    v.text = "Install disk: REFUSED: " + c.refusal + "\n" + installer::DiskListing(host.report, c, "  ");
  }
  return v;
}

}  // namespace slipway::cli
