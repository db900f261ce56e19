// etcd, kubeadm's external topology: the generated member config, unit,
// join script and kubeadm ClusterConfiguration read back with their parsers
// (yaml-cpp, sh), and the etcd PKI that SecretStore issues read back with
// OpenSSL (SANs, usages, issuer, modes).
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <set>

#include "installer/apply/secrets.h"
#include "installer/plan/config_gen.h"
#include "installer/plan/planner.h"
#include "plan_fixtures.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;
using slipway::testing::BundledCatalog;
using slipway::testing::MakeCluster;
using slipway::testing::MakeHost;
namespace fs = std::filesystem;

namespace {

PlanVm Member(const std::string& name, const std::string& ip) {
  PlanVm vm;
  vm.id = "vm/prod/" + name;
  vm.name = name;
  vm.cluster = "prod";
  vm.role = "control-plane";
  vm.os = "linux";
  PlanNic nic;
  nic.ip = ip;
  nic.prefix = 24;
  vm.nics.push_back(nic);
  return vm;
}

struct Three {
  PlanVm a = Member("prod-cp-1", "10.30.0.10"), b = Member("prod-cp-2", "10.30.0.11"),
         c = Member("prod-cp-3", "10.30.0.12");
  std::vector<const PlanVm*> all() const { return {&a, &b, &c}; }
};

Plan MakeProdPlan(int64_t control_planes) {
  std::vector<PlanHostInput> hosts = {MakeHost("h1", 64, 512, {{"/ClusterStorage/Volume1", 4000}})};
  ClusterProfile prod = MakeCluster("prod", 30, control_planes, 2, 1);
  PlanInputs in;
  in.hosts = hosts;
  in.profile = BundledCatalog().FindHardware("standard");
  in.clusters.push_back(&prod);
  in.sizes = &*BundledCatalog().sizes;
  in.firmware = &*BundledCatalog().firmware;
  auto p = MakePlan(in);
  INFO((p.ok() ? "" : p.error().message()));
  REQUIRE(p.ok());
  return *p;
}

const PlanFile& FileAt(const PlanVm& vm, const std::string& path) {
  for (const PlanFile& f : vm.files) {
    if (f.path == path) return f;
  }
  FAIL(vm.name << " has no file " << path);
  throw;
}

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr ParseCert(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  REQUIRE(cert);
  return cert;
}

// "DNS:x" and "IP:a.b.c.d" entries of the subjectAltName.
std::set<std::string> Sans(X509* cert) {
  std::set<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.insert("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName))));
    } else if (n->type == GEN_IPADD && ASN1_STRING_length(n->d.iPAddress) == 4) {
      const unsigned char* b = ASN1_STRING_get0_data(n->d.iPAddress);
      out.insert("IP:" + std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
                 std::to_string(b[3]));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string Subject(X509* cert) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

bool SignedBy(X509* cert, X509* ca) {
  EVP_PKEY* key = X509_get0_pubkey(ca);
  return X509_verify(cert, key) == 1 && X509_check_issued(ca, cert) == X509_V_OK;
}

}  // namespace

TEST_CASE("etcd's initial-cluster lists each planned member's name and peer URL, in order") {
  Three t;
  CHECK(EtcdInitialCluster({&t.a}).value() == "prod-cp-1=https://10.30.0.10:2380");
  CHECK(EtcdInitialCluster(t.all()).value() ==
        "prod-cp-1=https://10.30.0.10:2380,prod-cp-2=https://10.30.0.11:2380,prod-cp-3=https://10.30.0.12:2380");
  // A name that would add a member or break the line is refused.
  PlanVm bad = Member("cp,x=https://1.2.3.4:2380", "10.30.0.13");
  auto r = EtcdInitialCluster({&t.a, &bad});
  REQUIRE(!r.ok());
  CHECK(r.error().message().find("needs a plain name and an address") != std::string::npos);
  PlanVm no_ip = Member("cp-9", "");
  CHECK(!EtcdInitialCluster({&no_ip}).ok());
}

TEST_CASE("a member's etcd config parses back with yaml-cpp: TLS with client certificates on both URLs") {
  Three t;
  auto text = EtcdConfig("prod", t.b, t.all());
  REQUIRE(text.ok());
  YAML::Node y = YAML::Load(*text);
  CHECK(y["name"].as<std::string>() == "prod-cp-2");
  CHECK(y["data-dir"].as<std::string>() == "/var/lib/etcd/slipway");
  CHECK(y["listen-client-urls"].as<std::string>() == "https://10.30.0.11:2379,https://127.0.0.1:2379");
  CHECK(y["advertise-client-urls"].as<std::string>() == "https://10.30.0.11:2379");
  CHECK(y["listen-peer-urls"].as<std::string>() == "https://10.30.0.11:2380");
  CHECK(y["initial-advertise-peer-urls"].as<std::string>() == "https://10.30.0.11:2380");
  CHECK(y["initial-cluster"].as<std::string>() == EtcdInitialCluster(t.all()).value());
  CHECK(y["initial-cluster-state"].as<std::string>() == "new");
  CHECK(y["initial-cluster-token"].as<std::string>() == "slipway-prod");
  CHECK(y["election-timeout"].as<int>() == 10 * y["heartbeat-interval"].as<int>());
  for (const char* side : {"client-transport-security", "peer-transport-security"}) {
    INFO(side);
    CHECK(y[side]["client-cert-auth"].as<bool>());
    CHECK(!y[side]["auto-tls"].as<bool>());
    CHECK(y[side]["cert-file"].as<std::string>() == "/etc/etcd/pki/member.crt");
    CHECK(y[side]["key-file"].as<std::string>() == "/etc/etcd/pki/member.key");
    CHECK(y[side]["trusted-ca-file"].as<std::string>() == "/etc/etcd/pki/ca.crt");
  }
  // The join script switches the state with one sed on this exact line.
  CHECK(text->find("\ninitial-cluster-state: new\n") != std::string::npos);
}

TEST_CASE("member.env, the join script and the unit read back with their own parsers") {
  Three t;
  auto env = EtcdMemberEnv(t.a, t.all());
  REQUIRE(env.ok());
  testing::TempDir dir;
  testing::WriteText(dir / "member.env", *env);
  auto r = testing::Run("sh -c '. " + dir / "member.env" +
                        " && printf \"%s|%s|%s|%s|%s\" \"$SLIPWAY_ETCD_NAME\" \"$SLIPWAY_ETCD_PEER_URL\" "
                        "\"$SLIPWAY_ETCD_DATA\" \"$SLIPWAY_ETCD_CONFIG\" \"$SLIPWAY_ETCD_OTHERS\"'");
  INFO(r.err);
  CHECK(r.out ==
        "prod-cp-1|https://10.30.0.10:2380|/var/lib/etcd/slipway|/etc/etcd/etcd.yaml|"
        "https://10.30.0.11:2379,https://10.30.0.12:2379");
  // A single member has no others: it always forms a new cluster.
  testing::WriteText(dir / "one.env", EtcdMemberEnv(t.a, {&t.a}).value());
  CHECK(testing::Run("sh -c '. " + dir / "one.env" + " && printf %s \"[$SLIPWAY_ETCD_OTHERS]\"'").out == "[]");

  testing::WriteText(dir / "etcd-join", EtcdJoinScript());
  auto syntax = testing::Run("sh -n " + dir / "etcd-join");
  INFO(syntax.err);
  CHECK(syntax.exit_code == 0);
  CHECK(EtcdJoinScript().find("member remove") != std::string::npos);
  CHECK(EtcdJoinScript().find("member add \"$SLIPWAY_ETCD_NAME\" --peer-urls=\"$SLIPWAY_ETCD_PEER_URL\"") !=
        std::string::npos);

  const std::string& unit = EtcdUnit();
  CHECK(unit.find("\nType=notify\n") != std::string::npos);
  CHECK(unit.find("\nExecStartPre=/usr/lib/slipway/etcd-join\n") != std::string::npos);
  CHECK(unit.find("\nExecStart=/usr/bin/etcd --config-file /etc/etcd/etcd.yaml\n") != std::string::npos);
  CHECK(unit.find("\nWantedBy=multi-user.target\n") != std::string::npos);
}

TEST_CASE("kubeadm's ClusterConfiguration points at the external etcd members over TLS") {
  Plan p = MakeProdPlan(3);
  const PlanVm* cp1 = p.FindVm("vm/prod/prod-cp-1");
  REQUIRE(cp1);
  std::vector<YAML::Node> docs = YAML::LoadAll(FileAt(*cp1, "/etc/kubernetes/kubeadm.yaml").content);
  REQUIRE(docs.size() == 3);
  YAML::Node cc = docs[1];
  REQUIRE(cc["kind"].as<std::string>() == "ClusterConfiguration");
  CHECK(!cc["etcd"]["local"]);
  YAML::Node ext = cc["etcd"]["external"];
  std::vector<std::string> want;
  for (int i = 1; i <= 3; ++i) {
    want.push_back("https://" + p.FindVm("vm/prod/prod-cp-" + std::to_string(i))->nics[0].ip + ":2379");
  }
  CHECK(ext["endpoints"].as<std::vector<std::string>>() == want);
  CHECK(ext["caFile"].as<std::string>() == "/etc/kubernetes/pki/etcd/ca.crt");
  CHECK(ext["certFile"].as<std::string>() == "/etc/kubernetes/pki/apiserver-etcd-client.crt");
  CHECK(ext["keyFile"].as<std::string>() == "/etc/kubernetes/pki/apiserver-etcd-client.key");
}

TEST_CASE("every control plane is an etcd member, and keys are 0600 references, never values in the plan") {
  Plan p = MakeProdPlan(3);
  std::string initial;
  for (int i = 1; i <= 3; ++i) {
    const PlanVm* cp = p.FindVm("vm/prod/prod-cp-" + std::to_string(i));
    REQUIRE(cp);
    YAML::Node y = YAML::Load(FileAt(*cp, "/etc/etcd/etcd.yaml").content);
    CHECK(y["name"].as<std::string>() == cp->name);
    CHECK(y["advertise-client-urls"].as<std::string>() == "https://" + cp->nics[0].ip + ":2379");
    if (i == 1) initial = y["initial-cluster"].as<std::string>();
    CHECK(y["initial-cluster"].as<std::string>() == initial);  // one membership for all
    CHECK(FileAt(*cp, "/etc/etcd/pki/member.key").mode == "0600");
    CHECK(FileAt(*cp, "/etc/etcd/pki/member.key").content == "{{secret:etcd-key/prod." + cp->name + "}}\n");
    CHECK(FileAt(*cp, "/etc/kubernetes/pki/apiserver-etcd-client.key").mode == "0600");
    CHECK(FileAt(*cp, "/usr/lib/slipway/etcd-join").mode == "0755");
    CHECK(FileAt(*cp, "/etc/systemd/system/slipway-etcd.service").content == EtcdUnit());
  }
  CHECK(std::count(initial.begin(), initial.end(), ',') == 2);
  // Workers and LBs run no member.
  for (const PlanVm& vm : p.vms) {
    if (vm.role == "worker" || vm.role == "loadbalancer") {
      for (const PlanFile& f : vm.files) CHECK(f.path.find("etcd") == std::string::npos);
    }
  }
  std::string json = nlohmann::json(p).dump();
  CHECK(json.find("BEGIN") == std::string::npos);
  CHECK(json.find("PRIVATE KEY") == std::string::npos);
  std::set<std::string> kinds;
  for (const PlanSecret& s : p.secrets) {
    if (s.name.starts_with("etcd-")) kinds.insert(s.kind);
  }
  CHECK(kinds == std::set<std::string>{"etcd-ca-certificate", "etcd-member-certificate", "etcd-member-private-key",
                                       "etcd-client-certificate", "etcd-client-private-key"});
}

TEST_CASE("five control planes make a five-member etcd, and one makes a single member") {
  for (int64_t n : {1, 5}) {
    Plan p = MakeProdPlan(n);
    const PlanVm* cp = p.FindVm("vm/prod/prod-cp-1");
    REQUIRE(cp);
    std::string initial = YAML::Load(FileAt(*cp, "/etc/etcd/etcd.yaml").content)["initial-cluster"].as<std::string>();
    CHECK(std::count(initial.begin(), initial.end(), '=') == n);
    std::string env = FileAt(*cp, "/etc/etcd/member.env").content;
    CHECK((env.find("SLIPWAY_ETCD_OTHERS=''") != std::string::npos) == (n == 1));
  }
}

TEST_CASE(
    "the etcd PKI: member certificates serve and peer for their planned name and address, signed by the "
    "cluster's etcd CA") {
  testing::TempDir dir;
  auto store = SecretStore::Open(dir / "secrets");
  REQUIRE(store.ok());
  store->DeclareEtcdMember("prod", "prod-cp-1", "10.30.0.10");
  store->DeclareEtcdMember("prod", "prod-cp-2", "10.30.0.11");
  X509Ptr ca = ParseCert(store->Get("etcd-ca-cert/prod").value());
  X509Ptr m1 = ParseCert(store->Get("etcd-cert/prod.prod-cp-1").value());
  X509Ptr m2 = ParseCert(store->Get("etcd-cert/prod.prod-cp-2").value());
  X509Ptr client = ParseCert(store->Get("etcd-client-cert/prod").value());
  CHECK(store->Get("etcd-key/prod.prod-cp-1").value().find("PRIVATE KEY") != std::string::npos);
  CHECK(store->Get("etcd-client-key/prod").value().find("PRIVATE KEY") != std::string::npos);

  CHECK(X509_check_ca(ca.get()) == 1);
  CHECK(Subject(ca.get()) == "/CN=etcd-ca");
  CHECK(Sans(m1.get()) == std::set<std::string>{"DNS:prod-cp-1", "DNS:localhost", "IP:10.30.0.10", "IP:127.0.0.1"});
  CHECK(Sans(m2.get()) == std::set<std::string>{"DNS:prod-cp-2", "DNS:localhost", "IP:10.30.0.11", "IP:127.0.0.1"});
  for (X509* m : {m1.get(), m2.get()}) {
    CHECK(SignedBy(m, ca.get()));
    CHECK(X509_check_ca(m) == 0);
    CHECK((X509_get_extended_key_usage(m) & (XKU_SSL_SERVER | XKU_SSL_CLIENT)) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
  }
  CHECK(SignedBy(client.get(), ca.get()));
  CHECK(Subject(client.get()) == "/O=system:masters/CN=kube-apiserver-etcd-client");
  CHECK(X509_get_extended_key_usage(client.get()) == XKU_SSL_CLIENT);
  // The etcd CA is not the Kubernetes CA.
  X509Ptr k8s = ParseCert(store->Get("ca-cert/prod").value());
  CHECK(!SignedBy(m1.get(), k8s.get()));

  // Every file is 0600 in a 0700 folder, and the CA key has no secret name.
  for (const auto& e : fs::recursive_directory_iterator(dir / "secrets")) {
    struct stat st {};
    REQUIRE(::stat(e.path().c_str(), &st) == 0);
    INFO(e.path());
    CHECK((st.st_mode & 0777) == (e.is_directory() ? 0700u : 0600u));
  }
  CHECK(fs::exists(dir / "secrets/etcd-ca_prod/ca-key"));
  CHECK(!store->Get("etcd-ca-key/prod").ok());

  // Issued once: a second store reads the same certificates.
  auto again = SecretStore::Open(dir / "secrets");
  REQUIRE(again.ok());
  CHECK(again->Get("etcd-cert/prod.prod-cp-1").value() == store->Get("etcd-cert/prod.prod-cp-1").value());
  CHECK(again->Get("etcd-ca-cert/prod").value() == store->Get("etcd-ca-cert/prod").value());
}

TEST_CASE("an etcd certificate is never issued for an unplanned member, nor by a second CA") {
  testing::TempDir dir;
  {
    auto store = SecretStore::Open(dir / "secrets");
    REQUIRE(store.ok());
    auto r = store->Get("etcd-cert/prod.prod-cp-9");
    REQUIRE(!r.ok());
    CHECK(r.error().message() ==
          "etcd member 'prod-cp-9' of cluster 'prod' has no planned address; its certificate is issued only for a "
          "member of the plan");
    store->DeclareEtcdMember("prod", "prod-cp-1", "10.30.0.10");
    REQUIRE(store->Get("etcd-cert/prod.prod-cp-1").ok());
  }
  // The CA lost while a member certificate it issued remains: an error
  // naming the fix, and no new CA.
  fs::remove_all(dir / "secrets/etcd-ca_prod");
  auto store = SecretStore::Open(dir / "secrets");
  REQUIRE(store.ok());
  auto r = store->Get("etcd-ca-cert/prod");
  REQUIRE(!r.ok());
  CHECK(r.error().message().find("the etcd CA of cluster 'prod' (" + dir.path() +
                                 "/secrets/etcd-ca_prod) is missing, but " + dir.path() +
                                 "/secrets/etcd-member_prod.prod-cp-1, which it issued, remains") == 0);
  CHECK(!fs::exists(dir / "secrets/etcd-ca_prod"));
  // A set found partly present is an error too.
  fs::remove(dir / "secrets/etcd-member_prod.prod-cp-1/key");
  fs::remove_all(dir / "secrets/etcd-member_prod.prod-cp-1");
  fs::create_directories(dir / "secrets/etcd-ca_prod");
  testing::WriteText(dir / "secrets/etcd-ca_prod/ca-cert", "x");
  auto partly = SecretStore::Open(dir / "secrets");
  REQUIRE(partly.ok());
  auto p = partly->Get("etcd-ca-cert/prod");
  REQUIRE(!p.ok());
  CHECK(p.error().message().find("the etcd CA of cluster 'prod' is only partly present") == 0);
}
