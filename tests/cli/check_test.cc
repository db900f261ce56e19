#include "cli/check.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::testing;

TEST_CASE("every bundled profile, firmware and image definition validates") {
  auto report =
      cli::CheckPaths({SourceDir() + "/profiles", SourceDir() + "/images", SourceDir() + "/firmware"}, SourceDir());
  for (const Diagnostic& d : report.diags.items()) INFO(FormatDiagnostic(d));
  CHECK(report.diags.ErrorCount() == 0);
  CHECK(report.diags.WarningCount() == 0);  // no bundled profile plans a VM that cannot boot
  CHECK(report.files.size() == 17);         // 10 profiles, 4 images, 1 firmware catalogue
}

namespace {

// The formatted diagnostics of checking one bad fixture alone, with the
// fixture's path shortened to "F" and the source tree to "SRC".
std::vector<std::string> CheckBad(const std::string& name) {
  std::string file = Fixtures() + "/profiles/bad/" + name;
  auto report = cli::CheckPaths({file}, SourceDir());
  std::vector<std::string> out;
  for (const Diagnostic& d : report.diags.items()) {
    std::string s = FormatDiagnostic(d);
    for (auto [from, to] : {std::pair<std::string, std::string>{file, "F"}, {SourceDir(), "SRC"}}) {
      for (size_t pos; (pos = s.find(from)) != std::string::npos;) s.replace(pos, from.size(), to);
    }
    out.push_back(s);
  }
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("an unknown key gets a did-you-mean at its line and column") {
  CHECK(CheckBad("unknown-key.toml") == Lines{"F:6:1: error: unknown key 'memroy_gib' (did you mean 'memory_gib'?)"});
}

TEST_CASE("install-disk rules are checked with located errors") {
  CHECK(CheckBad("install-disk.toml") ==
        Lines{"F:6:9: error: 'media' is 'tape'; it must be 'ssd', 'hdd' or 'nvme'",
              "F:8:11: error: 'max_gib' (100) is below 'min_gib' (500); no disk can match",
              "F:14:1: error: unknown key 'serail' (did you mean 'serial'?)",
              "F:15:13: error: 'transport' is 'sas'; it must be 'nvme', 'sata/scsi', 'virtio' or 'usb'",
              "F:16:8: error: 'wipe' must be a boolean (true or false), not a string"});
}

TEST_CASE("wrong types are reported for each key") {
  CHECK(CheckBad("wrong-type.toml") ==
        Lines{"F:5:13: error: 'min_cores' must be an integer, not a string",
              "F:7:26: error: 'require_virtualization' must be a boolean (true or false), not a string"});
}

TEST_CASE("a control plane of 2 is out of range and says why") {
  CHECK(CheckBad("control-plane-count.toml") ==
        Lines{"F:6:9: error: control plane 'count' is 2; it must be 1, 3 or 5 (etcd needs an odd number of members)"});
}

TEST_CASE("names, versions and taints are validated") {
  CHECK(CheckBad("bad-names.toml") ==
        Lines{"F:2:8: error: 'name' 'Prod_Cluster' is not a valid DNS-1123 name: it must be lower case",
              "F:3:22: error: 'kubernetes_version' 'v1.28.5' is not a semantic version MAJOR.MINOR.PATCH like "
              "1.28.5 (write '1.28.5')",
              "F:15:8: error: 'name' 'linux-' is not a valid DNS-1123 name: it must start and end with a letter or "
              "digit",
              "F:19:10: error: taint 'dedicated=gpu' has no effect (expected key=value:NoSchedule)"});
}

TEST_CASE("CIDRs must parse, hold the gateway and have room for every VM") {
  CHECK(CheckBad("bad-cidr.toml") ==
        Lines{"F:22:11: error: 'gateway' 10.20.1.1 is outside 'node_cidr' 10.20.0.0/24",
              "F:23:16: error: 'node_ip_pool' 10.20.0.10-10.20.0.12 has 3 addresses, but the cluster has 4 VMs; "
              "widen the pool",
              "F:24:12: error: 'pod_cidr': '10.244.1.0/16' has host bits set (did you mean '10.244.0.0/16'?)"});
}

TEST_CASE("overlapping address spaces and pools are errors, reported with other mistakes") {
  CHECK(CheckBad("network-overlap.toml") ==
        Lines{"F:1:1: error: missing required key 'storage'",
              "F:12:12: error: 'vip_pool' 10.20.0.90-10.20.0.120 overlaps [network] node_ip_pool "
              "10.20.0.10-10.20.0.99",
              "F:25:16: error: 'service_cidr' 10.96.0.0/16 overlaps 'pod_cidr' 10.96.0.0/12"});
}

TEST_CASE("references to VM sizes and firmware must resolve") {
  CHECK(CheckBad("unknown-size.toml") ==
        Lines{"F:7:8: error: unknown VM size 'Standard_A4_v3' (did you mean 'Standard_A4_v2'?); sizes are defined "
              "in SRC/profiles/vm-sizes.toml",
              "F:19:12: error: unknown firmware 'uefi-secur' (did you mean 'uefi-secure'?); firmware is defined in "
              "SRC/firmware/firmware.toml ('bios', 'uefi' or 'uefi-secure')"});
}

TEST_CASE("duplicate MACs, serials, UUIDs and addresses in a fleet file are errors") {
  CHECK(CheckBad("fleet-duplicates.toml") ==
        Lines{"F:15:7: error: duplicate MAC 52:54:00:12:34:01: host 'hv-02' and host 'hv-01' (line 6) both use it",
              "F:18:11: error: IP 10.0.0.11 of host 'hv-02' is already used by host 'hv-01' (line 11)",
              "F:22:10: error: duplicate serial SN1: host 'hv-03' and host 'hv-01' (line 6) both use it",
              "F:23:8: error: duplicate UUID 4c4c4544-0042-3510-8052-b4c04f4b4e32: host 'hv-03' and host 'hv-02' "
              "(line 13) both use it"});
}

TEST_CASE("fleet references resolve and a private key is refused without echoing it") {
  auto lines = CheckBad("fleet-references.toml");
  CHECK(lines ==
        Lines{"F:4:20: error: unknown hardware profile 'standrd' (did you mean 'standard'?); known: "
              "'edge-small', 'lab', 'large', 'smoke' and 'standard'",
              "F:5:12: error: unknown cluster 'prdo' (did you mean 'prod'?); known: 'dev', 'lab', 'prod' and 'smoke'",
              "F:6:23: error: item 1 of 'ssh_authorized_keys' is a PRIVATE key; put the public key (.pub) "
              "here and keep the private key off the answer file"});
  for (const std::string& l : lines) CHECK(l.find("b3BlbnNzaC1rZXktdjEAAAAA") == std::string::npos);
}

TEST_CASE("image sections must belong to the role and steps must be known") {
  CHECK(CheckBad("image-wrong-role.toml") ==
        Lines{"F:5:1: error: source 'tarball' needs 'path' (the tarball to read)",
              "F:12:9: error: unknown hardening step 'nftabels' (did you mean 'nftables'?); known steps: sysctl, "
              "sshd, nftables, auditd, setuid, tmp-mount, kernel-cmdline, mask-services, kubelet",
              "F:15:1: error: [iso] is only for role 'installer', not 'loadbalancer'"});
}

TEST_CASE("a TOML syntax error is located") {
  CHECK(CheckBad("syntax-error.toml") ==
        Lines{"F:6:14: error: TOML syntax: Error while parsing value: could not determine value type"});
}

TEST_CASE("an unknown kind lists the kinds") {
  CHECK(CheckBad("unknown-kind.toml") ==
        Lines{"F:1:8: error: 'kind' must be one of 'vm-sizes', 'hardware-profile', 'cluster', 'fleet', 'firmware', "
              "'image' or 'kubernetes-bundle' (did you mean 'cluster'?)"});
}

TEST_CASE("three distinct mistakes give exactly three located errors") {
  CHECK(CheckBad("three-mistakes.toml") ==
        Lines{"F:6:9: error: control plane 'count' is 4; it must be 1, 3 or 5 (etcd needs an odd number of members)",
              "F:18:1: error: unknown key 'sise' (did you mean 'size'?)",
              "F:24:12: error: 'pod_cidr': '10.244.0.0/33' has an invalid prefix length (expected 0 to 32)"});
}

TEST_CASE("kinds come from the folder or file name") {
  CHECK(cli::KindFromPath("a/profiles/hardware/x.toml") == "hardware-profile");
  CHECK(cli::KindFromPath("profiles/clusters/x.toml") == "cluster");
  CHECK(cli::KindFromPath("profiles/fleet/x.toml") == "fleet");
  CHECK(cli::KindFromPath("profiles/vm-sizes.toml") == "vm-sizes");
  CHECK(cli::KindFromPath("images/x.toml") == "image");
  CHECK(cli::KindFromPath("elsewhere/x.toml") == "");
}

TEST_CASE("slipway check exits 0 on the bundled files") {
  auto r =
      Run(Slipway() + " check " + SourceDir() + "/profiles " + SourceDir() + "/images " + SourceDir() + "/firmware");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("checked 17 files: 17 valid, 0 with errors") != std::string::npos);
}

TEST_CASE("slipway check exits 2 with every located error on stderr") {
  std::string file = Fixtures() + "/profiles/bad/three-mistakes.toml";
  auto r = Run(Slipway() + " check " + file);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(file + ":6:9: error:") != std::string::npos);
  CHECK(r.err.find(file + ":18:1: error:") != std::string::npos);
  CHECK(r.err.find(file + ":24:12: error:") != std::string::npos);
  CHECK(r.out.find("(3 errors, 0 warnings)") != std::string::npos);
}

TEST_CASE("slipway check --json gives machine-readable diagnostics") {
  std::string file = Fixtures() + "/profiles/bad/unknown-key.toml";
  auto r = Run(Slipway() + " check --json " + file);
  CHECK(r.exit_code == 2);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["ok"] == false);
  REQUIRE(j["diagnostics"].size() == 1);
  CHECK(j["diagnostics"][0]["line"] == 6);
  CHECK(j["diagnostics"][0]["column"] == 1);
  CHECK(j["diagnostics"][0]["file"] == file);
}

TEST_CASE("usage errors exit 2 and name the fix") {
  auto r = Run(Slipway() + " check --jsno x");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown option '--jsno' (did you mean '--json'?)") != std::string::npos);
  r = Run(Slipway() + " chekc");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown command 'chekc' (did you mean 'check'?)") != std::string::npos);
  r = Run(Slipway() + " check /nonexistent-slipway");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/nonexistent-slipway: error: no such file or folder") != std::string::npos);
  r = Run(Slipway() + " --help");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("check") != std::string::npos);
  r = Run(Slipway() + " apply /nonexistent-slipway.json --domain-type xen");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--domain-type takes qemu, kvm or test, not 'xen'") != std::string::npos);
}

TEST_CASE("Secure-Boot firmware for Linux VMs is accepted: their images boot through shim and Debian's signed GRUB") {
  auto report = cli::CheckPaths({Fixtures() + "/profiles/secure-boot-linux.toml"}, SourceDir());
  std::string shown;
  for (const Diagnostic& d : report.diags.items()) shown += FormatDiagnostic(d) + "\n";
  INFO(shown);
  CHECK(report.diags.items().empty());
}

TEST_CASE("a hardware profile cannot ask for Secure Boot on BIOS, and tpm is \"2.0\" or \"any\"") {
  auto lines = CheckBad("secure-boot-bios.toml");
  INFO(Join(lines, "\n"));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "F:9:15: error: secure_boot = true needs UEFI, but firmware = \"bios\"; use firmware = \"uefi\"");
  CHECK(lines[1] == "F:10:7: error: 'tpm' is '1.2'; it must be '2.0' or 'any'");
}

TEST_CASE("Kubernetes syntax is checked when a cluster profile is read") {
  CHECK(CheckBad("k8s-syntax.toml") ==
        Lines{"F:3:22: error: 'kubernetes_version' '1.028.5' is not a semantic version MAJOR.MINOR.PATCH like 1.28.5 "
              "(no leading zeros)",
              "F:19:10: error: label key 'Example.COM/role' has a prefix that is not a DNS subdomain",
              "F:19:10: error: label 'long' value '" + std::string(64, 'a') +
                  "' is 64 characters long; at most 63 are allowed",
              "F:19:10: error: label 'ok' value '-x' must start and end with a letter or digit",
              "F:19:10: error: label 'tier' value 'front end' contains ' '; only letters, digits, '-', '_' and '.' are "
              "allowed",
              "F:20:10: error: taint 'dedicated=gpu'@:NoSchedule' value 'gpu'@' contains '''; only letters, digits, "
              "'-', '_' and '.' are allowed",
              "F:20:10: error: taint 'spot=true:NoExec' has effect 'NoExec'; it must be 'NoSchedule', "
              "'PreferNoSchedule' or 'NoExecute'",
              "F:22:1: error: Windows VM name 'winfarm-windows-2' is 17 characters; Windows computer names allow 15. "
              "Shorten cluster 'winfarm' or pool 'windows'"});
}

TEST_CASE("a label value with a line break is refused and printed escaped") {
  testing::TempDir dir;
  std::string text = testing::ReadText(Fixtures() + "/profiles/bad/k8s-syntax.toml");
  size_t labels = text.find("labels = {");
  size_t end = text.find('\n', labels);
  text.replace(labels, end - labels, "labels = { \"tier\" = \"web\\n'@\\nRemove-Item C:\\\\ \\u00e9\" }");
  testing::WriteText(dir / "clusters/x.toml", text);
  auto report = cli::CheckPaths({dir / "clusters/x.toml"}, SourceDir());
  bool found = false;
  for (const Diagnostic& d : report.diags.items()) {
    std::string s = FormatDiagnostic(d);
    if (s.find("label 'tier' value 'web\\n'@\\nRemove-Item C:\\ \xC3\xA9' contains '\\n'") != std::string::npos)
      found = true;
  }
  CHECK(found);
}

TEST_CASE("addresses never hand out a network or broadcast address, and the gateway stays out of the pools") {
  CHECK(CheckBad("address-reserved.toml") ==
        Lines{"F:12:12: error: 'vip_pool' 10.20.0.250-10.20.0.255 includes the network or broadcast address of "
              "10.20.0.0/24",
              "F:12:12: error: 'vip_pool' 10.20.0.250-10.20.0.255 contains the gateway 10.20.0.255",
              "F:22:11: error: 'gateway' 10.20.0.255 is the network or broadcast address of 'node_cidr' 10.20.0.0/24",
              "F:23:16: error: 'node_ip_pool' 10.20.0.0-10.20.0.99 includes the network or broadcast address of "
              "'node_cidr' 10.20.0.0/24; keep it within 10.20.0.1-10.20.0.254"});
}

TEST_CASE("a fleet host's address, gateway and VIP are distinct, inside one subnet, and not reserved") {
  CHECK(CheckBad("fleet-addresses.toml") ==
        Lines{"F:12:11: error: host 'hv-01' address 10.0.0.255 is the network or broadcast address of 10.0.0.0/24",
              "F:13:7: error: host 'hv-01' vip 10.0.0.1 is the gateway",
              "F:19:11: error: host 'hv-02' gateway 10.0.0.1 is outside its subnet 10.0.1.0/24",
              "F:20:7: error: IP 10.0.1.12 of host 'hv-02' is already used by host 'hv-02' (line 19)",
              "F:20:7: error: host 'hv-02' vip 10.0.1.12 is the host's own address",
              "F:26:11: error: host 'hv-03' address 10.0.0.13 is its gateway",
              "F:28:7: error: host 'hv-03' vip 10.0.0.0 is the network or broadcast address of 10.0.0.0/24",
              "F:36:7: error: host 'hv-04': the management VMs take the 10 addresses after vip 10.0.2.10 "
              "(10.0.2.11-10.0.2.20), which include the host's own address 10.0.2.15",
              "F:44:7: error: host 'hv-05': the management VMs take the 10 addresses after vip 10.0.3.250 "
              "(10.0.3.251-10.0.4.4), past the end of subnet 10.0.3.0/24; choose a lower vip"});
}

TEST_CASE("a cluster VLAN needs bridge mode and a bridge name short enough for its sub-bridge") {
  CHECK(CheckBad("vlan-nat.toml") ==
        Lines{"F:31:8: error: 'vlan' tags the cluster's frames on the host bridge, so it needs mode = \"bridge\""});
  CHECK(
      CheckBad("vlan-long-bridge.toml") ==
      Lines{"F:33:8: error: with a VLAN, the bridge name 'slwbr-uplink' is too long: the sub-bridge "
            "'slwbr-uplinkv4000' must be an interface name of at most 15 characters; use a bridge name of at most 10"});
}

TEST_CASE("every command and sub-command prints its help on --help and exits 0, running nothing") {
  // The top-level help promises "Run 'slipway COMMAND --help'".
  for (const char* cmd : {"check",       "detect",       "match", "preflight",   "plan",         "plan diff", "lb",
                          "lb render",   "lb sync",      "apply", "destroy",     "bridge",       "status",    "fleet",
                          "fleet check", "fleet report", "build", "build image", "build harden", "build iso"}) {
    auto r = Run(Slipway() + " " + cmd + " --help");
    INFO(cmd << ": " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("usage: ", 0) == 0);
    CHECK(r.err.empty());
  }
  // With arguments that would otherwise run it, --help still only prints.
  auto r = Run(Slipway() + " build harden images/linux-node.toml --tree /nonexistent-slipway --help");
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("usage: slipway build harden", 0) == 0);
}

TEST_CASE("fleet report counts a host whose latest boot failed to converge as failed, and survives odd reports") {
  TempDir t;
  std::filesystem::create_directories(t / "a");
  std::filesystem::create_directories(t / "b");
  std::filesystem::create_directories(t / "c");
  std::filesystem::create_directories(t / "d");
  WriteText(t / "a/report.json", R"({"result":"ok","host_name":"host-a","profile":"lab","plan":{"vms":5},
    "boots":[{"result":"ok"}]})");
  WriteText(t / "b/report.json", R"({"result":"ok","host_name":"host-b","profile":"lab","plan":{"vms":5},
    "boots":[{"result":"ok"},{"result":"failed","error":"libvirt: cannot start mgmt-lb"}],"final_phase":"Failed"})");
  WriteText(t / "c/report.json", "[1, 2]");
  WriteText(t / "d/report.json", R"({"result":"ok","host_name":7})");
  auto r = Run(Slipway() + " fleet report " + t.path());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("1 done, 3 failed") != std::string::npos);
  CHECK(r.out.find("boot 2 after the install: libvirt: cannot start mgmt-lb") != std::string::npos);
  CHECK(r.out.find("not a JSON object") != std::string::npos);
  auto j = Run(Slipway() + " fleet report --json " + t / "a");
  CHECK(j.exit_code == 0);
  CHECK(nlohmann::json::parse(j.out)["done"] == 1);
}

TEST_CASE("fleet check resolves profile and cluster names in --profiles DIR") {
  TempDir t;
  std::filesystem::copy(SourceDir() + "/profiles", t / "profiles", std::filesystem::copy_options::recursive);
  std::string cluster = ReadText(SourceDir() + "/profiles/clusters/lab.toml");
  size_t at = cluster.find("name = \"lab\"");
  REQUIRE(at != std::string::npos);
  cluster.replace(at, 12, "name = \"extra\"");
  WriteText(t / "profiles/clusters/extra.toml", cluster);
  std::string fleet = ReadText(SourceDir() + "/profiles/fleet/lab.toml");
  at = fleet.find("clusters = [\"lab\"]");
  REQUIRE(at != std::string::npos);
  fleet.replace(at, 18, "clusters = [\"extra\"]");
  WriteText(t / "fleet.toml", "kind = \"fleet\"\n" + fleet);
  auto r = Run(Slipway() + " fleet check " + t / "fleet.toml --profiles " + t / "profiles");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  // Without it, the bundled profiles have no cluster 'extra'.
  auto bundled = Run(Slipway() + " fleet check " + t / "fleet.toml");
  CHECK(bundled.exit_code == 2);
  CHECK((bundled.out + bundled.err).find("extra") != std::string::npos);
}
