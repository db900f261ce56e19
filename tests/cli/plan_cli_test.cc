// slipway plan through the CLI: determinism across input order, --out, exit codes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace slipway::testing;

namespace {

std::string Host(const std::string& name) {
  std::string h = Fixtures() + "/hosts/" + name;
  return h;
}

std::string Report(const TempDir& dir, const std::string& name) {
  std::string out = dir / (name + ".json");
  auto r = Run(Slipway() + " detect --json --sysroot " + Host(name) + " --fs-usage " + Host(name) + "/statvfs.json > " +
               out);
  REQUIRE(r.exit_code == 0);
  return out;
}

}  // namespace

TEST_CASE("slipway plan --json is byte-identical whatever the order of hosts and clusters") {
  TempDir dir;
  std::string a = Report(dir, "uefi-secureboot"), b = Report(dir, "two-csvs");
  // Two hosts with different SMBIOS UUIDs are needed: give the second one its own.
  std::string text = ReadText(b);
  size_t pos = text.find("4c4c4544-0042-3510-8052-b4c04f4b4e32");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 36, "4c4c4544-0042-3510-8052-b4c04f4b4e33");
  WriteText(b, text);
  std::string prod = SourceDir() + "/profiles/clusters/prod.toml", dev = SourceDir() + "/profiles/clusters/dev.toml";
  auto r1 = Run(Slipway() + " plan --json --profile standard --hardware " + a + " --hardware " + b + " --cluster " +
                prod + " --cluster " + dev);
  auto r2 = Run(Slipway() + " plan --json --profile standard --hardware " + b + " --hardware " + a + " --cluster " +
                dev + " --cluster " + prod + " --out " + dir / "plan.json");
  INFO(r1.err << r2.err);
  REQUIRE(r1.exit_code == 0);
  REQUIRE(r2.exit_code == 0);
  CHECK(r1.out == r2.out);
  CHECK(ReadText(dir / "plan.json") == r1.out);
  auto j = nlohmann::json::parse(r1.out);
  CHECK(j["schema"] == "slipway.plan/v1");
  CHECK(j["hosts"].size() == 2);
  CHECK(j["csvs"].size() == 3);  // Volume1 shared by both hosts, Volume2 and /srv/shared
  CHECK(j["vms"].size() == 17);
}

TEST_CASE("slipway plan --answer plans the management network the installer would, on the host bridge") {
  TempDir dir;
  std::string lab = Host("lab-csv");
  WriteText(dir / "answer.toml",
            "kind = \"fleet\"\n[[host]]\nname = \"lab-01\"\nhardware_profile = \"lab\"\nmac = "
            "\"02:fc:00:00:00:01\"\n[host.network]\n"
            "mode = \"bridge\"\nbridge = \"br-dc\"\naddress = \"198.51.100.5/24\"\nvip = \"198.51.100.40\"\n");
  auto r = Run(Slipway() + " plan --json --profile lab --sysroot " + lab + " --fs-usage " + lab +
               "/statvfs.json --answer " + dir / "answer.toml");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["networks"][0]["mode"] == "bridge");
  CHECK(j["networks"][0]["bridge"] == "br-dc");
  CHECK(j["networks"][0]["cidr"] == "198.51.100.0/24");
  CHECK(j["clusters"][0]["api_vip"] == "198.51.100.40");
  for (const auto& vm : j["vms"]) CHECK(vm["nics"][0]["ip"].get<std::string>().rfind("198.51.100.4", 0) == 0);
  // Without --answer: the NAT default.
  auto nat = Run(Slipway() + " plan --json --profile lab --sysroot " + lab + " --fs-usage " + lab + "/statvfs.json");
  REQUIRE(nat.exit_code == 0);
  CHECK(nlohmann::json::parse(nat.out)["networks"][0]["mode"] == "nat");
  // Bridge mode without the host's address is refused, naming the fix.
  WriteText(dir / "answer.toml",
            "kind = \"fleet\"\n[[host]]\nname = \"lab-01\"\nhardware_profile = \"lab\"\nmac = \"02:fc:00:00:00:01\"\n"
            "[host.network]\nmode = \"bridge\"\n");
  auto bad = Run(Slipway() + " plan --profile lab --sysroot " + lab + " --fs-usage " + lab + "/statvfs.json --answer " +
                 dir / "answer.toml");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("it needs the host's 'address' (CIDR) and the management API 'vip'") != std::string::npos);
}

TEST_CASE("slipway plan refuses with exit 3 and says what to change") {
  auto r = Run(Slipway() + " plan --profile edge-small --sysroot " + Host("bios-only") + " --fs-usage " +
               Host("bios-only") + "/statvfs.json --cluster " + SourceDir() + "/profiles/clusters/prod.toml");
  CHECK(r.exit_code == 3);
  CHECK(r.err.rfind("slipway plan: error: the plan needs 138 GiB memory for 2 clusters (management included), the host "
                    "has 60 GiB",
                    0) == 0);
}

TEST_CASE("slipway plan reports a bad cluster file with its location and exits 2") {
  auto r = Run(Slipway() + " plan --hardware /dev/null --cluster " + Fixtures() + "/profiles/bad/three-mistakes.toml");
  CHECK(r.exit_code == 2);
  r = Run(Slipway() + " plan --sysroot " + Host("lab-csv") + " --fs-usage " + Host("lab-csv") +
          "/statvfs.json --cluster " + Fixtures() + "/profiles/bad/three-mistakes.toml");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("three-mistakes.toml:18:1: error: unknown key 'sise' (did you mean 'size'?)") != std::string::npos);
  r = Run(Slipway() + " plan --profile standrd --sysroot " + Host("lab-csv"));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown hardware profile 'standrd' (did you mean 'standard'?)") != std::string::npos);
}

TEST_CASE("slipway plan --explain says where each value came from") {
  auto r = Run(Slipway() + " plan --explain --sysroot " + Host("lab-csv") + " --fs-usage " + Host("lab-csv") +
               "/statvfs.json --cluster " + SourceDir() + "/profiles/clusters/lab.toml");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("Plan: 1 host(s), hardware profile 'lab', 2 cluster(s), 5 VMs, 1 CSV(s)") != std::string::npos);
  CHECK(r.out.find("- size Slipway_Lab_2 (2 vCPU, 2 GiB, OS disk 10 GiB) from " + SourceDir() +
                   "/profiles/clusters/lab.toml:8") != std::string::npos);
  CHECK(r.out.find("- host mac-02:fc:00:00:00:01: the only host") != std::string::npos);
}

TEST_CASE("slipway plan diff shows the VMs a scale-up adds") {
  TempDir dir;
  std::string lab = ReadText(SourceDir() + "/profiles/clusters/lab.toml");
  WriteText(dir / "clusters/lab.toml", lab);
  std::string base = Slipway() + " plan --sysroot " + Host("lab-csv") + " --fs-usage " + Host("lab-csv") +
                     "/statvfs.json --cluster " + dir / "clusters/lab.toml";
  REQUIRE(Run(base + " --out " + dir / "old.json").exit_code == 0);
  size_t pos = lab.find("count = 1\nsize = \"Slipway_Lab_2\"\nfirmware = \"bios\"\n\n[network]");
  REQUIRE(pos != std::string::npos);
  lab.replace(pos, 9, "count = 2");
  WriteText(dir / "clusters/lab.toml", lab);
  REQUIRE(Run(base + " --out " + dir / "new.json").exit_code == 0);
  auto r = Run(Slipway() + " plan diff " + dir / "old.json " + dir / "new.json");
  CHECK(r.exit_code == 0);
  CHECK(r.out == "+ vm/lab/lab-linux-2\n1 to add, 0 to change, 0 to remove\n");
}

TEST_CASE("slipway apply exits 2 on a missing plan or a plan that breaks a rule, before anything is created") {
  TempDir dir;
  auto r = Run(Slipway() + " apply /nonexistent-slipway/plan.json --state " + dir / "state");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("/nonexistent-slipway/plan.json: No such file or directory") != std::string::npos);
  CHECK(!std::filesystem::exists(dir / "state"));

  std::string hw = Report(dir, "uefi-secureboot");
  auto p = Run(Slipway() + " plan --profile smoke --hardware " + hw + " --out " + dir / "plan.json");
  REQUIRE(p.exit_code == 0);
  auto j = nlohmann::json::parse(ReadText(dir / "plan.json"));
  j["vms"][0]["name"] = "../../etc/x";
  j["vms"][1]["vcpus"] = 100000;
  WriteText(dir / "bad.json", j.dump());
  r = Run(Slipway() + " apply " + dir / "bad.json" + " --state " + dir / "state");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("the plan is not safe to apply; nothing was created:") != std::string::npos);
  CHECK(r.err.find("VM name '../../etc/x' is not a DNS label") != std::string::npos);
  CHECK(r.err.find("has 100000 vCPUs") != std::string::npos);
  CHECK(!std::filesystem::exists(dir / "state"));
}

TEST_CASE("slipway plan says when there is no Kubernetes bundle and takes the version from one") {
  TempDir dir;
  std::string lab = Fixtures() + "/hosts/lab-csv";
  std::string base = Slipway() + " plan --sysroot " + lab + " --fs-usage " + lab + "/statvfs.json --cluster ";
  auto none = Run(base + SourceDir() + "/profiles/clusters/lab.toml");
  INFO(none.err);
  REQUIRE(none.exit_code == 0);
  CHECK(none.out.find("CSV(s)\nno Kubernetes bundle: nodes run etcd and containerd only\n\n") != std::string::npos);
  // A bundle of another version than the profile's: refused at the profile's line.
  auto write_bundle = [&](const std::string& version) {
    WriteText(dir / "bundle/kubernetes-bundle.toml", "kind = \"kubernetes-bundle\"\nkubernetes_version = \"" + version +
                                                         "\"\ncni = \"flannel\"\n[[file]]\npath = \"bin/kubectl\"\n"
                                                         "kind = \"kubectl\"\nversion = \"" +
                                                         version + "\"\nsha256 = \"" + std::string(64, '0') + "\"\n");
  };
  write_bundle("1.29.3");
  auto other = Run(base + SourceDir() + "/profiles/clusters/lab.toml --kubernetes " + dir / "bundle");
  CHECK(other.exit_code == 2);
  CHECK(other.err.find("profiles/clusters/lab.toml:4:22: error: cluster 'lab' asks for Kubernetes 1.28.5, but the "
                       "bundle in the node images is 1.29.3") != std::string::npos);
  // The profile without a version runs the bundle's.
  std::string profile = ReadText(SourceDir() + "/profiles/clusters/lab.toml");
  const std::string line = "kubernetes_version = \"1.28.5\"\n";
  profile.replace(profile.find(line), line.size(), "");
  WriteText(dir / "clusters/lab.toml", profile);
  auto taken = Run(base + dir / "clusters/lab.toml --kubernetes " + dir / "bundle");
  INFO(taken.err);
  REQUIRE(taken.exit_code == 0);
  CHECK(taken.out.find("Cluster lab (workload, Kubernetes 1.29.3)") != std::string::npos);
  CHECK(taken.out.find("Cluster mgmt (management, Kubernetes 1.29.3)") != std::string::npos);
  CHECK(taken.out.find("no Kubernetes bundle") == std::string::npos);
}
