// The files the planner generates are checked by the real tools that will
// read them: haproxy -c, keepalived -t, and a YAML parser for kubeadm and
// cloud-init.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>

#include "installer/plan/plan_ops.h"
#include "installer/plan/planner.h"
#include "plan_fixtures.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;

namespace {

const Plan& ProdPlan() {
  static Plan plan = [] {
    PlanInputs in;
    in.hosts = {testing::MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})};
    in.profile = testing::BundledCatalog().FindHardware("standard");
    in.clusters = {testing::BundledCatalog().FindCluster("prod"), testing::BundledCatalog().FindCluster("dev")};
    in.sizes = &*testing::BundledCatalog().sizes;
    in.firmware = &*testing::BundledCatalog().firmware;
    auto p = MakePlan(in);
    REQUIRE(p.ok());
    return *p;
  }();
  return plan;
}

const PlanFile* FileAt(const PlanVm& vm, const std::string& path) {
  for (const PlanFile& f : vm.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

testing::RunResult Check(const std::string& tool, const std::string& content) {
  testing::TempDir dir;
  testing::WriteText(dir / "cfg", content);
  return testing::Run(tool + " " + dir / "cfg");
}

}  // namespace

TEST_CASE("every generated haproxy.cfg passes haproxy -c") {
  int checked = 0;
  for (const PlanVm& vm : ProdPlan().vms) {
    const PlanFile* f = FileAt(vm, "/etc/haproxy/haproxy.cfg");
    if (!f) continue;
    auto r = Check("haproxy -c -f", f->content);
    INFO(vm.name << "\n" << r.out << r.err);
    CHECK(r.exit_code == 0);
    ++checked;
  }
  CHECK(checked == 4);  // mgmt-lb, dev-lb-1, prod-lb-1, prod-lb-2
}

TEST_CASE("every generated keepalived.conf passes keepalived -t") {
  int checked = 0;
  for (const PlanVm& vm : ProdPlan().vms) {
    const PlanFile* f = FileAt(vm, "/etc/keepalived/keepalived.conf");
    if (!f) continue;
    auto r = Check("keepalived -t -l -f", f->content);
    INFO(vm.name << "\n" << r.out << r.err);
    CHECK(r.exit_code == 0);
    ++checked;
  }
  CHECK(checked == 2);  // prod has two LBs with VRRP; dev's single LB holds the VIP itself
}

TEST_CASE("kubeadm configs parse and have the required kinds and apiVersions") {
  const Plan& p = ProdPlan();
  auto kinds = [&](const std::string& vm_id) {
    std::vector<std::string> out;
    const PlanVm* vm = p.FindVm(vm_id);
    REQUIRE(vm);
    const PlanFile* f = FileAt(*vm, vm->os == "windows" ? "C:/slipway/kubeadm.yaml" : "/etc/kubernetes/kubeadm.yaml");
    REQUIRE(f);
    for (const YAML::Node& doc : YAML::LoadAll(f->content)) {
      out.push_back(doc["apiVersion"].as<std::string>() + " " + doc["kind"].as<std::string>());
    }
    return out;
  };
  CHECK(kinds("vm/prod/prod-cp-1") == std::vector<std::string>{"kubeadm.k8s.io/v1beta3 InitConfiguration",
                                                               "kubeadm.k8s.io/v1beta3 ClusterConfiguration",
                                                               "kubelet.config.k8s.io/v1beta1 KubeletConfiguration"});
  CHECK(kinds("vm/prod/prod-cp-2") == std::vector<std::string>{"kubeadm.k8s.io/v1beta3 JoinConfiguration"});
  CHECK(kinds("vm/prod/prod-linux-1") == std::vector<std::string>{"kubeadm.k8s.io/v1beta3 JoinConfiguration"});
  CHECK(kinds("vm/prod/prod-windows-1") == std::vector<std::string>{"kubeadm.k8s.io/v1beta3 JoinConfiguration"});

  const PlanVm* cp1 = p.FindVm("vm/prod/prod-cp-1");
  auto docs = YAML::LoadAll(FileAt(*cp1, "/etc/kubernetes/kubeadm.yaml")->content);
  CHECK(docs[1]["controlPlaneEndpoint"].as<std::string>() == "10.30.0.200:6443");
  CHECK(docs[1]["networking"]["podSubnet"].as<std::string>() == "10.245.0.0/16");
  CHECK(docs[1]["apiServer"]["extraArgs"]["encryption-provider-config"].as<std::string>() ==
        "/etc/kubernetes/encryption/config.yaml");
  CHECK(docs[2]["authentication"]["anonymous"]["enabled"].as<bool>() == false);
  auto enc = YAML::Load(FileAt(*cp1, "/etc/kubernetes/encryption/config.yaml")->content);
  CHECK(enc["kind"].as<std::string>() == "EncryptionConfiguration");
  CHECK(enc["resources"][0]["providers"][0]["aescbc"]["keys"][0]["secret"].as<std::string>() ==
        "{{secret:encryption-key/prod}}");

  const PlanVm* win = p.FindVm("vm/prod/prod-windows-1");
  auto join = YAML::Load(FileAt(*win, "C:/slipway/kubeadm.yaml")->content);
  CHECK(join["nodeRegistration"]["taints"][0]["key"].as<std::string>() == "os");
  CHECK(join["nodeRegistration"]["taints"][0]["value"].as<std::string>() == "windows");
  CHECK(join["nodeRegistration"]["taints"][0]["effect"].as<std::string>() == "NoSchedule");
  CHECK(join["nodeRegistration"]["kubeletExtraArgs"]["node-labels"].as<std::string>().find(
            "kubernetes.io/os=windows") != std::string::npos);
}

TEST_CASE("cloud-init seeds parse and embed the VM's files") {
  const PlanVm* lb = ProdPlan().FindVm("vm/prod/prod-lb-1");
  REQUIRE(lb->seed.size() == 3);
  CHECK(lb->seed[0].content.rfind("#cloud-config\n", 0) == 0);
  YAML::Node user = YAML::Load(lb->seed[0].content);
  CHECK(user["hostname"].as<std::string>() == "prod-lb-1");
  CHECK(user["write_files"][0]["path"].as<std::string>() == "/etc/haproxy/haproxy.cfg");
  CHECK(user["write_files"][0]["content"].as<std::string>() == lb->files[0].content);
  YAML::Node meta = YAML::Load(lb->seed[1].content);
  CHECK(meta["instance-id"].as<std::string>() == lb->uuid);
  YAML::Node net = YAML::Load(lb->seed[2].content);
  CHECK(net["version"].as<int>() == 2);
  CHECK(net["ethernets"]["nic0"]["match"]["macaddress"].as<std::string>() == lb->nics[0].mac);
  CHECK(net["ethernets"]["nic0"]["addresses"][0].as<std::string>() == "10.30.0.13/24");
}

TEST_CASE("lb render gives each LoadBalancer service a VIP and passes haproxy -c") {
  testing::TempDir dir;
  testing::WriteText(dir / "svc.toml",
                     "[[service]]\nname = \"web\"\nport = 80\nnode_port = 30080\n\n"
                     "[[service]]\nname = \"api\"\nnamespace = \"shop\"\nport = 443\nnode_port = 30443\n");
  std::string plan = dir / "plan.json";
  std::string h = testing::Fixtures() + "/hosts/uefi-secureboot";
  auto r = testing::Run(testing::Slipway() + " plan --sysroot " + h + " --fs-usage " + h + "/statvfs.json --cluster " +
                        testing::SourceDir() + "/profiles/clusters/prod.toml --out " + plan);
  REQUIRE(r.exit_code == 0);
  r = testing::Run(testing::Slipway() + " lb render --plan " + plan + " --cluster prod --services " + dir / "svc.toml" +
                   " --out " + dir / "lb.cfg");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // Sorted by namespace/name: default/web gets the first VIP after the API's.
  CHECK(r.err ==
        "service default/web: 10.30.0.201:80 -> 6 node(s) on port 30080\n"
        "service shop/api: 10.30.0.202:443 -> 6 node(s) on port 30443\n");
  std::string cfg = testing::ReadText(dir / "lb.cfg");
  CHECK(cfg.find("bind 10.30.0.201:80") != std::string::npos);
  CHECK(cfg.find("server node1 10.30.0.15:30080") != std::string::npos);
  auto c = testing::Run("haproxy -c -f " + dir / "lb.cfg");
  INFO(c.out << c.err);
  CHECK(c.exit_code == 0);
}

TEST_CASE("the hardened nftables rulesets load with nft -c on a tree without /etc/protocols") {
  if (testing::Run("command -v nft").exit_code != 0) {
    WARN("nft is not installed: skipped");
    return;
  }
  // A minbase Debian tree has no netbase, so no /etc/protocols: a ruleset
  // that names protocols fails at boot. Hide the file in a private mount
  // namespace and check both roles' rulesets.
  for (const char* image : {"linux-node", "loadbalancer"}) {
    testing::TempDir t;
    std::filesystem::create_directories(t / "root/etc");
    auto h = testing::Run(testing::Slipway() + " build harden " + testing::SourceDir() + "/images/" + image +
                          ".toml --tree " + t / "root");
    REQUIRE(h.exit_code == 0);
    auto r = testing::Run("unshare -m sh -c 'mount --bind /dev/null /etc/protocols && nft -c -f " +
                          t / "root/etc/nftables.conf'");
    INFO(image << ": " << r.out << r.err);
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE(
    "lb sync reads kubectl's ServiceList, keeps VIPs stable across syncs, and checks with haproxy and keepalived") {
  testing::TempDir dir;
  std::string plan = dir / "plan.json";
  std::string h = testing::Fixtures() + "/hosts/uefi-secureboot";
  auto r = testing::Run(testing::Slipway() + " plan --sysroot " + h + " --fs-usage " + h + "/statvfs.json --cluster " +
                        testing::SourceDir() + "/profiles/clusters/prod.toml --out " + plan);
  REQUIRE(r.exit_code == 0);
  std::string sync = testing::Slipway() + " lb sync --plan " + plan + " --cluster prod --state " + dir / "state" +
                     " --out-dir " + dir / "out --render-only";
  // kubectl's output on stdin: shop/web (two TCP ports and a UDP one) and
  // shop/db (loadBalancerIP) are LoadBalancers; the others are not.
  r = testing::Run(sync + " < " + testing::Fixtures() + "/lb/services-1.json");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("warning: shop/web port 443/UDP: skipped; the load balancers balance TCP only") !=
        std::string::npos);
  CHECK(r.err.find("service shop/db: 10.30.0.205 5432->31432 (new)") != std::string::npos);
  CHECK(r.err.find("service shop/web: 10.30.0.201 80->30080 443->30443 (new)") != std::string::npos);
  auto ingress = nlohmann::json::parse(r.out);
  CHECK(ingress["kind"] == "List");
  REQUIRE(ingress["items"].size() == 2);
  CHECK(ingress["items"][1]["metadata"]["name"] == "web");
  CHECK(ingress["items"][1]["status"]["loadBalancer"]["ingress"][0]["ip"] == "10.30.0.201");
  std::string cfg = testing::ReadText(dir / "out/haproxy.cfg");
  CHECK(cfg.find("frontend svc-shop-web-80\n    bind 10.30.0.201:80") != std::string::npos);
  CHECK(cfg.find("frontend svc-shop-web-443\n    bind 10.30.0.201:443") != std::string::npos);
  CHECK(cfg.find("server node1 10.30.0.15:30443") != std::string::npos);
  CHECK(cfg.find("30444") == std::string::npos);  // the UDP port has no rule
  // prod's keepalived pair carries the Service VIPs with the API VIP, out of
  // the adverts (virtual_ipaddress_excluded), which carry the API VIP only.
  std::string ka = testing::ReadText(dir / "out/keepalived-prod-lb-1.conf");
  size_t excluded = ka.find("virtual_ipaddress_excluded {");
  REQUIRE(excluded != std::string::npos);
  CHECK(ka.find("10.30.0.201/24 dev eth0") > excluded);
  CHECK(ka.find("10.30.0.205/24 dev eth0") > excluded);
  CHECK(ka.find("10.30.0.201/24 dev eth0") != std::string::npos);
  CHECK(ka.find("10.30.0.205/24 dev eth0") != std::string::npos);
  CHECK(ka.find("/24 dev eth0") < excluded);  // the API VIP, advertised
  CHECK(testing::Run("keepalived -t -f " + dir / "out/keepalived-prod-lb-2.conf").exit_code == 0);

  // The second sync: web is gone (its rule and VIP too), api is new and
  // takes the lowest free VIP, db keeps its VIP.
  r = testing::Run(sync + " --services " + testing::Fixtures() + "/lb/services-2.json");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("service shop/db: 10.30.0.205 5432->31432\n") != std::string::npos);
  CHECK(r.err.find("service default/api: 10.30.0.201 8080->30081 (new)") != std::string::npos);
  CHECK(r.err.find("service shop/web: removed, 10.30.0.201 freed") != std::string::npos);
  cfg = testing::ReadText(dir / "out/haproxy.cfg");
  CHECK(cfg.find("svc-shop-web") == std::string::npos);
  CHECK(cfg.find("frontend svc-default-api-8080") != std::string::npos);
  auto rec = nlohmann::json::parse(testing::ReadText(dir / "state/lb/prod.json"));
  CHECK(rec["vips"] == nlohmann::json({{"default/api", "10.30.0.201"}, {"shop/db", "10.30.0.205"}}));

  // Without --render-only, sync installs; with no cluster key (apply makes
  // it) it says so, names the fix and exits 1.
  r = testing::Run(testing::Slipway() + " lb sync --plan " + plan + " --cluster prod --state " + dir / "state" +
                   " --services " + testing::Fixtures() + "/lb/services-2.json");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no load-balancer key for cluster 'prod' (" + dir / "state/secrets/lb-ssh_prod/key" +
                   "): apply makes it") != std::string::npos);
}

TEST_CASE("lb sync refuses a ServiceList that is not what the API prints, naming the item") {
  testing::TempDir dir;
  std::string plan = dir / "plan.json";
  std::string h = testing::Fixtures() + "/hosts/uefi-secureboot";
  REQUIRE(testing::Run(testing::Slipway() + " plan --sysroot " + h + " --fs-usage " + h + "/statvfs.json --cluster " +
                       testing::SourceDir() + "/profiles/clusters/prod.toml --out " + plan)
              .exit_code == 0);
  auto sync = [&](const std::string& json) {
    testing::WriteText(dir / "in.json", json);
    return testing::Run(testing::Slipway() + " lb sync --plan " + plan + " --cluster prod --state " + dir / "state" +
                        " --services " + dir / "in.json");
  };
  auto svc = [](const std::string& spec) {
    return R"({"apiVersion":"v1","kind":"List","items":[{"kind":"Service","metadata":{"name":"web","namespace":"shop"},"spec":)" +
           spec + "}]}";
  };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"apiVersion":"v1","kind":"PodList","items":[]})", "kind \"List\" or \"ServiceList\""},
      {"[1,2", "not JSON"},
      {svc(R"({"type":"LoadBalancer","ports":[{"port":80.5,"nodePort":30080}]})"), "'port' is a number"},
      {svc(R"({"type":"LoadBalancer","ports":[{"port":80,"nodePort":80}]})"), "nodePort 80 is outside 30000-32767"},
      {svc(R"({"type":"LoadBalancer","ports":[{"port":80}]})"), "no nodePort"},
      {svc(R"({"type":"LoadBalancer","loadBalancerIP":"192.0.2.1","ports":[{"port":80,"nodePort":30080}]})"),
       "loadBalancerIP 192.0.2.1 is outside cluster 'prod' vip_pool"},
      {svc(R"({"type":"LoadBalancer","loadBalancerIP":"10.30.0.200","ports":[{"port":80,"nodePort":30080}]})"),
       "is already the API VIP"},
      {R"({"apiVersion":"v1","kind":"List","items":[{"metadata":{"name":"We b\n"},"spec":{"type":"LoadBalancer"}}]})",
       "names and namespaces are DNS-1123 labels"},
  };
  for (const auto& [json, want] : bad) {
    auto r = sync(json);
    INFO(json << "\n" << r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(want) != std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK(!std::filesystem::exists(dir / "state/lb/prod.json"));  // nothing recorded
}
