// Secret sets are one unit: a fault at any write, fsync, rename or mkdir
// leaves the whole CA or none of it, and the rerun converges on one CA.
#include "installer/apply/secrets.h"

#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "fault_file_ops.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;
using namespace slipway::testing;
namespace fs = std::filesystem;

namespace {

std::set<std::string> Listing(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.insert(fs::relative(e.path(), dir).string());
  return out;
}

}  // namespace

TEST_CASE("a cluster's CA is written as one set folder, and read back the same") {
  TempDir dir;
  std::string cert, key, hash;
  {
    auto store = SecretStore::Open(dir / "secrets");
    REQUIRE(store.ok());
    cert = store->Get("ca-cert/prod").value();
    key = store->Get("ca-key/prod").value();
    hash = store->Get("ca-cert-hash/prod").value();
  }
  CHECK(Listing(dir / "secrets") ==
        std::set<std::string>{"ca_prod", "ca_prod/ca-key", "ca_prod/ca-cert", "ca_prod/ca-cert-hash"});
  CHECK(cert.starts_with("-----BEGIN CERTIFICATE-----"));
  CHECK(key.find("PRIVATE KEY") != std::string::npos);
  CHECK(hash.starts_with("sha256:"));
  auto again = SecretStore::Open(dir / "secrets");
  REQUIRE(again.ok());
  CHECK(again->Get("ca-cert-hash/prod").value() == hash);
  CHECK(again->Get("ca-cert/prod").value() == cert);
}

TEST_CASE("a fault at any point of writing a CA never leaves two CAs, and the rerun converges") {
  // Count the calls of a clean run first.
  int total;
  {
    TempDir dir;
    FailingFileOps counter(0);
    auto store = SecretStore::Open(dir / "secrets", &counter);
    REQUIRE(store.ok());
    REQUIRE(store->Get("ca-cert/c1").ok());
    total = counter.calls();
  }
  REQUIRE(total >= 9);  // mkdir, 3 x (write, fsync), fsync, rename, fsync
  for (int n = 1; n <= total; ++n) {
    DYNAMIC_SECTION("fault at call " << n) {
      TempDir dir;
      FailingFileOps faulty(n);
      {
        auto store = SecretStore::Open(dir / "secrets", &faulty);
        REQUIRE(store.ok());
        auto got = store->Get("ca-cert-hash/c1");
        INFO(faulty.log()[static_cast<size_t>(n - 1)]);
        CHECK(faulty.failed());
        CHECK(!got.ok());  // every point, the last fsync included, is reported
      }
      // What is in place after the fault: all of the set or nothing.
      bool in_place = fs::exists(dir / "secrets/ca_c1");
      if (in_place) {
        CHECK(Listing(dir / "secrets") ==
              std::set<std::string>{"ca_c1", "ca_c1/ca-key", "ca_c1/ca-cert", "ca_c1/ca-cert-hash"});
      }
      std::string hash_on_disk = in_place ? ReadText(dir / "secrets/ca_c1/ca-cert-hash") : "";
      // The rerun, on the real file system.
      auto rerun = SecretStore::Open(dir / "secrets");
      REQUIRE(rerun.ok());
      auto hash = rerun->Get("ca-cert-hash/c1");
      REQUIRE(hash.ok());
      if (in_place) CHECK(*hash == hash_on_disk);  // kept, not re-minted
      CHECK(Listing(dir / "secrets") ==
            std::set<std::string>{"ca_c1", "ca_c1/ca-key", "ca_c1/ca-cert", "ca_c1/ca-cert-hash"});
      // A third run sees the same CA: converged.
      auto third = SecretStore::Open(dir / "secrets");
      REQUIRE(third.ok());
      CHECK(third->Get("ca-cert-hash/c1").value() == *hash);
      CHECK(third->Get("ca-cert/c1").value() == ReadText(dir / "secrets/ca_c1/ca-cert"));
    }
  }
}

TEST_CASE("a CA set that is only partly present is an error naming the missing file, never re-minted") {
  TempDir dir;
  {
    auto store = SecretStore::Open(dir / "secrets");
    REQUIRE(store.ok());
    REQUIRE(store->Get("ca-cert/prod").ok());
  }
  std::string key_before = ReadText(dir / "secrets/ca_prod/ca-key");
  fs::remove(dir / "secrets/ca_prod/ca-cert");
  auto store = SecretStore::Open(dir / "secrets");
  REQUIRE(store.ok());
  auto r = store->Get("ca-cert-hash/prod");
  REQUIRE(!r.ok());
  CHECK(r.error().message().find("the CA of cluster 'prod' is only partly present: " + dir / "secrets/ca_prod/ca-cert" +
                                 " is missing") != std::string::npos);
  CHECK(r.error().message().find("Restore it from a backup") != std::string::npos);
  CHECK(ReadText(dir / "secrets/ca_prod/ca-key") == key_before);
  CHECK(!fs::exists(dir / "secrets/ca_prod/ca-cert"));
}

TEST_CASE("a partial CA in the old one-file-per-secret layout is an error too, and a complete one is kept") {
  TempDir dir;
  WriteText(dir / "secrets/ca-key_old", "KEY");
  WriteText(dir / "secrets/ca-cert-hash_old", "sha256:abc");
  auto store = SecretStore::Open(dir / "secrets");
  REQUIRE(store.ok());
  auto r = store->Get("ca-cert/old");
  REQUIRE(!r.ok());
  CHECK(r.error().message().find(dir / "secrets/ca-cert_old is missing") != std::string::npos);
  WriteText(dir / "secrets/ca-cert_old", "CERT");
  auto store2 = SecretStore::Open(dir / "secrets");
  REQUIRE(store2.ok());
  CHECK(store2->Get("ca-cert/old").value() == "CERT");
  CHECK(store2->Get("ca-cert-hash/old").value() == "sha256:abc");
}

TEST_CASE("single secrets survive a fault at any point: the old value or the new, never a torn file") {
  for (int n = 1; n <= 4; ++n) {  // write, fsync, rename, fsync of the folder
    TempDir dir;
    FailingFileOps faulty(n);
    {
      auto store = SecretStore::Open(dir / "secrets", &faulty);
      REQUIRE(store.ok());
      CHECK(!store->Get("bootstrap-token/c1").ok());
      CHECK(faulty.failed());
    }
    bool in_place = fs::exists(dir / "secrets/bootstrap-token_c1");
    CHECK(in_place == (n == 4));
    std::string before = in_place ? ReadText(dir / "secrets/bootstrap-token_c1") : "";
    auto rerun = SecretStore::Open(dir / "secrets");
    REQUIRE(rerun.ok());
    auto token = rerun->Get("bootstrap-token/c1");
    REQUIRE(token.ok());
    CHECK(token->size() == 23);
    if (in_place) CHECK(*token == before);
    CHECK(Listing(dir / "secrets") == std::set<std::string>{"bootstrap-token_c1"});
  }
}

TEST_CASE("secret names cannot climb out of the secrets folder") {
  TempDir dir;
  auto store = SecretStore::Open(dir / "secrets");
  REQUIRE(store.ok());
  for (std::string bad : {"ca-cert/../../x", "password/a/b", "../x", ".hidden", "password/.x"}) {
    auto r = store->Get(bad);
    REQUIRE(!r.ok());
    CHECK(r.error().code() == ExitCode::kInput);
  }
  CHECK(Listing(dir / "secrets").empty());
}

TEST_CASE("a secret filled as {{secret:NAME|yaml}} cannot end its YAML scalar") {
  TempDir dir;
  auto store = SecretStore::Open(dir / "secrets");
  REQUIRE(store.ok());
  const std::string keys = "ssh-ed25519 AAAAC3 ops@x\"\n  evil: true\nssh-ed25519 AAAAC4 it's #2";
  REQUIRE(store->Put("ssh-authorized-keys", keys).ok());
  auto filled =
      store->Fill("users:\n  - name: slipway\n    ssh_authorized_keys:\n      - {{secret:ssh-authorized-keys|yaml}}\n");
  REQUIRE(filled.ok());
  YAML::Node doc = YAML::Load(*filled);
  CHECK(doc["users"][0]["ssh_authorized_keys"][0].as<std::string>() == keys);
  CHECK(!doc["users"][0]["evil"]);
  CHECK(!store->Fill("{{secret:ssh-authorized-keys|json}}").ok());
}
