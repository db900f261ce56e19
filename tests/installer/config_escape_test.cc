// Generated kubeadm YAML and the Windows first-boot PowerShell render every
// profile value through their language's escaper: hostile label and taint
// values and file contents read back exactly and never become structure or
// code. (Profile validation refuses such values first; this is the second
// line.)
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

#include "installer/plan/config_gen.h"

using namespace slipway::installer;

namespace {

PlanVm Worker(const std::string& os) {
  PlanVm vm;
  vm.id = "vm/prod/prod-w-1";
  vm.name = "prod-w-1";
  vm.cluster = "prod";
  vm.role = "worker";
  vm.os = os;
  vm.uuid = "00000000-0000-0000-0000-000000000001";
  vm.nics.push_back({"net/prod", "52:54:00:00:00:01", "10.0.0.10", 24, "10.0.0.1", {"10.0.0.1"}});
  return vm;
}

}  // namespace

TEST_CASE("hostile label and taint values stay values in kubeadm's YAML") {
  PlanCluster c;
  c.name = "prod";
  c.api_vip = "10.0.0.200";
  PlanVm vm = Worker("linux");
  const std::string evil = "x\"\n  evil: true\n# '@ $(id) `id`";
  vm.labels["tier"] = evil;
  vm.taints = {"dedicated=" + std::string("gpu\"\n    - key: injected") + ":NoSchedule"};
  PlanVm cp = Worker("linux");
  cp.id = "vm/prod/prod-cp-1";
  std::string yaml = KubeadmConfig(c, vm, {&cp}, "10.244.0.0/16", "10.96.0.0/16");
  INFO(yaml);
  auto docs = YAML::LoadAll(yaml);
  REQUIRE(!docs.empty());
  YAML::Node reg = docs[0]["nodeRegistration"];
  CHECK(reg["kubeletExtraArgs"]["node-labels"].as<std::string>() == "tier=" + evil);
  CHECK(!reg["evil"]);
  CHECK(!reg["kubeletExtraArgs"]["evil"]);
  REQUIRE(reg["taints"].size() == 1);
  CHECK(reg["taints"][0]["value"].as<std::string>() == "gpu\"\n    - key: injected");
  CHECK(reg["taints"][0]["effect"].as<std::string>() == "NoSchedule");
}

TEST_CASE("a file holding '@ cannot end its literal in the Windows first-boot PowerShell") {
  PlanVm vm = Worker("windows");
  const std::string content = "line\n'@\nRemove-Item -Recurse C:\\\n\xE2\x80\x99@ $(whoami) `n\n";
  vm.files.push_back({"C:/slipway/kubeadm.yaml", content, "0600", {}});
  auto seed = WindowsSeed(vm, "10.0.0.200");
  REQUIRE(!seed.empty());
  const std::string& ps = seed[0].content;
  INFO(ps);
  CHECK(ps.find("@'") == std::string::npos);  // no here-strings at all
  // The -Value literal, decoded by PowerShell's single-quote rules, is the
  // whole file and ends where the line ends.
  size_t start = ps.find("-Value '");
  REQUIRE(start != std::string::npos);
  start += 7;
  std::string value;
  size_t i = start + 1;
  auto quote_len = [&](size_t k) -> size_t {
    if (k < ps.size() && ps[k] == '\'') return 1;
    if (ps.compare(k, 2, "\xE2\x80") == 0 && k + 2 < ps.size() && static_cast<unsigned char>(ps[k + 2]) >= 0x98 &&
        static_cast<unsigned char>(ps[k + 2]) <= 0x9B)
      return 3;
    return 0;
  };
  while (i < ps.size()) {
    if (size_t q = quote_len(i)) {
      if (size_t q2 = quote_len(i + q)) {
        value += ps.substr(i + q, q2);
        i += q + q2;
        continue;
      }
      i += q;
      break;
    }
    value += ps[i++];
  }
  CHECK(value == content);
  CHECK(ps.compare(i, 1, "\n") == 0);
}

TEST_CASE("the NoCloud user-data takes the SSH keys through the YAML filter") {
  PlanVm vm = Worker("linux");
  auto seed = NoCloudSeed(vm);
  REQUIRE(!seed.empty());
  CHECK(seed[0].content.find("      - {{secret:ssh-authorized-keys|yaml}}\n") != std::string::npos);
  CHECK(seed[0].secret_refs == std::vector<std::string>{"ssh-authorized-keys"});
}
