// Matching and preflight on host fixtures against the bundled profiles.
#include "installer/detect/match.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "installer/detect/detect.h"
#include "installer/plan/catalog.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

HardwareReport Host(const std::string& name) {
  std::string dir = testing::Fixtures() + "/hosts/" + name;
  auto usage = RecordedFsUsage::Load(dir + "/statvfs.json");
  REQUIRE(usage.ok());
  auto r = Detect(Sysroot(dir), **usage, {});
  REQUIRE(r.ok());
  return std::move(*r);
}

const Catalog& Bundled() {
  static Catalog c = [] {
    Diagnostics d;
    Catalog c =
        LoadProfileTree(testing::SourceDir() + "/profiles", testing::SourceDir() + "/firmware/firmware.toml", &d);
    REQUIRE_FALSE(d.HasErrors());
    return c;
  }();
  return c;
}

const RuleResult& Rule(const std::vector<RuleResult>& rules, const std::string& name) {
  for (const RuleResult& r : rules) {
    if (r.name == name) return r;
  }
  FAIL("no rule " << name);
  throw;
}

std::vector<std::string> Ranking(const std::vector<ProfileMatch>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.profile->name + (m.fits ? "+" : "-"));
  return out;
}

}  // namespace

TEST_CASE("a standard rack server fits standard and edge-small, standard ranked first") {
  auto ms = MatchProfiles(Host("uefi-secureboot"), Bundled().hardware);
  CHECK(Ranking(ms) == std::vector<std::string>{"standard+", "edge-small+", "lab+", "smoke+", "large-"});
}

TEST_CASE("a BIOS edge box fits edge-small (and lab and smoke), not standard or large") {
  auto ms = MatchProfiles(Host("bios-only"), Bundled().hardware);
  CHECK(Ranking(ms) == std::vector<std::string>{"edge-small+", "lab+", "smoke+", "standard-", "large-"});
  const RuleResult& fw = Rule(ms[3].rules, "firmware");  // standard
  CHECK(fw.state == CheckState::kFail);
  CHECK(fw.measured == "BIOS");
  CHECK(fw.threshold == "UEFI");
  CHECK(fw.detail ==
        "host boots with BIOS; profile 'standard' needs UEFI (switch the boot mode in the firmware setup)");
  CHECK(fw.source.file == testing::SourceDir() + "/profiles/hardware/standard.toml");
  CHECK(fw.source.line == 13);
}

TEST_CASE("with virtualization off only lab (and smoke) fit, and edge-small lacks only virtualization") {
  auto all = MatchProfiles(Host("no-virt"), Bundled().hardware);
  CHECK(Ranking(all) == std::vector<std::string>{"lab+", "smoke+", "edge-small-", "standard-", "large-"});
  std::vector<HardwareProfile> production;
  for (const auto& p : Bundled().hardware) {
    if (p.name != "lab" && p.name != "smoke") production.push_back(p);
  }
  auto ms = MatchProfiles(Host("no-virt"), production);
  REQUIRE_FALSE(ms[0].fits);
  CHECK(ms[0].profile->name == "edge-small");
  CHECK(ms[0].failed == 1);
  CHECK(Lacks(ms[0]) ==
        std::vector<std::string>{"the CPU does not advertise vmx or svm; enable VT-x/AMD-V in the firmware setup"});
}

TEST_CASE("thresholds are named with the host value and their source line") {
  auto rules = EvaluateRules(Host("bios-only"), *Bundled().FindHardware("standard"));
  const RuleResult& mem = Rule(rules, "memory");
  CHECK(mem.measured == "64 GiB");
  CHECK(mem.threshold == ">= 192 GiB");
  CHECK(mem.detail == "host has 64 GiB memory; profile 'standard' needs at least 192 GiB");
  CHECK(mem.source.line == 7);
  CHECK(mem.source.column == 18);
  const RuleResult& disk = Rule(rules, "data-disk");
  CHECK(disk.measured == "1 (vdb)");
  CHECK(disk.detail ==
        "host has 1 disk(s) that can hold data; profile 'standard' needs at least 2 (vda holds the boot medium)");
}

TEST_CASE("the boot USB stick and a USB disk never count as data disks") {
  auto rules = EvaluateRules(Host("twelve-disks"), *Bundled().FindHardware("large"));
  const RuleResult& disk = Rule(rules, "data-disk");
  CHECK(disk.state == CheckState::kPass);
  CHECK(disk.measured == "10 (nvme0n1, nvme1n1, nvme2n1, nvme3n1, sda, sdb, sdc, sdd, sde, sdf)");
}

TEST_CASE("a read-only CSV does not count towards CSVs or free space") {
  auto rules = EvaluateRules(Host("csv-readonly"), *Bundled().FindHardware("standard"));
  CHECK(Rule(rules, "csv-count").measured == "1 (1 read-only not counted)");
  CHECK(Rule(rules, "csv-count").state == CheckState::kFail);
  CHECK(Rule(rules, "csv-free").measured == "500 GiB");
}

TEST_CASE("skipped checks are still listed, and only failures fail") {
  auto rules = EvaluateRules(Host("bios-only"), *Bundled().FindHardware("standard"), {"firmware", "memory"});
  REQUIRE(rules.size() == CheckNames().size());
  CHECK(Rule(rules, "firmware").state == CheckState::kSkipped);
  CHECK(Rule(rules, "memory").state == CheckState::kSkipped);
  CHECK(Rule(rules, "memory").detail.empty());
  CHECK(Rule(rules, "cores").state == CheckState::kFail);
}

TEST_CASE("unknown host values fail with their reason, never as 0") {
  HardwareReport r = Host("bios-only");
  r.memory_bytes = Probed<uint64_t>::Unknown("cannot read /proc/meminfo: Permission denied");
  auto rules = EvaluateRules(r, *Bundled().FindHardware("edge-small"));
  CHECK(Rule(rules, "memory").measured == "unknown");
  CHECK(Rule(rules, "memory").detail == "memory is unknown (cannot read /proc/meminfo: Permission denied)");
}

TEST_CASE("slipway match and preflight exit 0, 3 and 2 as documented") {
  std::string h = testing::Fixtures() + "/hosts/";
  // A profile tree without 'lab' and 'smoke', so that nothing fits the no-virt host.
  testing::TempDir tmp;
  std::filesystem::copy(testing::SourceDir() + "/profiles", tmp.path(), std::filesystem::copy_options::recursive);
  std::filesystem::remove(tmp / "hardware/lab.toml");
  std::filesystem::remove(tmp / "hardware/smoke.toml");
  auto fx = [&](const std::string& n) { return " --sysroot " + h + n + " --fs-usage " + h + n + "/statvfs.json"; };
  auto r = testing::Run(testing::Slipway() + " match" + fx("bios-only"));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("Profiles that fit, best first: 1. edge-small") != std::string::npos);
  r = testing::Run(testing::Slipway() + " match --profiles " + tmp.path() + fx("no-virt"));
  CHECK(r.exit_code == 3);
  CHECK(r.err ==
        "slipway match: no hardware profile fits this host; nearest is 'edge-small', which lacks:\n"
        "  - the CPU does not advertise vmx or svm; enable VT-x/AMD-V in the firmware setup\n");
  r = testing::Run(testing::Slipway() + " preflight --profile standard" + fx("uefi-secureboot"));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("result: 0 failed, 10 passed, 0 skipped") != std::string::npos);
  r = testing::Run(testing::Slipway() + " preflight --profile standard --skip-check firmware --json" + fx("bios-only"));
  CHECK(r.exit_code == 3);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["skipped"] == 1);
  CHECK(j["failed"] == 5);
  CHECK(j["suggestion"] == "edge-small");
  CHECK(j["checks"][7]["state"] == "skipped");
  r = testing::Run(testing::Slipway() + " preflight --profile standrd" + fx("bios-only"));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown hardware profile 'standrd' (did you mean 'standard'?)") != std::string::npos);
  r = testing::Run(testing::Slipway() + " preflight --profile standard --skip-check memroy");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown check 'memroy' (did you mean 'memory'?)") != std::string::npos);
}

TEST_CASE("match reads a saved report as well as a sysroot") {
  testing::TempDir tmp;
  std::string h = testing::Fixtures() + "/hosts/uefi-secureboot";
  auto d = testing::Run(testing::Slipway() + " detect --json --sysroot " + h + " --fs-usage " + h + "/statvfs.json > " +
                        tmp / "r.json");
  REQUIRE(d.exit_code == 0);
  auto r = testing::Run(testing::Slipway() + " match --json --hardware " + tmp / "r.json");
  CHECK(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["best"] == "standard");
}

TEST_CASE("preflight shows the host's Secure Boot and TPM against a profile that requires them") {
  HardwareProfile p = Bundled().hardware[0];
  p.match.secure_boot = true;
  p.match.tpm = "2.0";
  auto rules = EvaluateRules(Host("uefi-secureboot"), p);
  CHECK(Rule(rules, "secure-boot").measured == "on");
  CHECK(Rule(rules, "secure-boot").threshold == "on");
  CHECK(Rule(rules, "secure-boot").state == CheckState::kPass);
  CHECK(Rule(rules, "tpm").measured == "2.0");
  CHECK(Rule(rules, "tpm").state == CheckState::kPass);
  auto bios = EvaluateRules(Host("bios-only"), p);
  CHECK(Rule(bios, "secure-boot").measured == "off");
  CHECK(Rule(bios, "secure-boot").state == CheckState::kFail);
  CHECK(Rule(bios, "secure-boot").detail ==
        "host boots with Secure Boot off; profile '" + p.name +
            "' needs it on (enable Secure Boot in the firmware setup, with Microsoft's UEFI CA enrolled)");
  CHECK(Rule(bios, "tpm").measured == "none");
  CHECK(Rule(bios, "tpm").state == CheckState::kFail);
  CHECK(Rule(bios, "tpm").detail ==
        "host has TPM none; profile '" + p.name + "' needs a TPM 2.0 (enable it in the firmware setup)");
  // Not required: shown, and passing, whatever the host has.
  auto plain = EvaluateRules(Host("bios-only"), Bundled().hardware[0]);
  CHECK(Rule(plain, "secure-boot").threshold == "not required");
  CHECK(Rule(plain, "secure-boot").state == CheckState::kPass);
  CHECK(Rule(plain, "tpm").threshold == "not required");
  CHECK(Rule(plain, "tpm").state == CheckState::kPass);
}
