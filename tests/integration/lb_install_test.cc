// lb sync's install path, short of real VMs (real_vms_test.cc runs it on
// the load-balancer VMs): the payload read back with libarchive, the
// cluster key read by OpenSSH's own ssh-keygen, and lb-apply's refusals run
// by /bin/sh with the real tar, haproxy and keepalived.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>

#include "builder/agent.h"
#include "installer/apply/lb_push.h"
#include "installer/apply/secrets.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::installer;
namespace fs = std::filesystem;

namespace {

struct Member {
  std::string text;
  unsigned mode;
  int64_t uid, mtime;
};

std::map<std::string, Member> ReadTar(const std::string& bytes) {
  std::map<std::string, Member> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    REQUIRE(archive_entry_filetype(e) == AE_IFREG);
    std::string text(static_cast<size_t>(archive_entry_size(e)), '\0');
    REQUIRE(archive_read_data(a, text.data(), text.size()) == static_cast<la_ssize_t>(text.size()));
    out[archive_entry_pathname(e)] = {text, archive_entry_perm(e), archive_entry_uid(e), archive_entry_mtime(e)};
  }
  archive_read_free(a);
  return out;
}

const char* kHaproxy =
    "global\n    maxconn 100\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 1m\n"
    "    timeout server 1m\nfrontend web\n    bind 127.0.0.1:18080\n    default_backend nodes\n"
    "backend nodes\n    server node1 127.0.0.1:30080\n";

}  // namespace

TEST_CASE("the load-balancer payload reads back with libarchive: only lb-apply's files, root 0644, mtime 0") {
  auto pair = LbPayload(kHaproxy, "vrrp_instance VI_x {\n}\n", {443, 80}, std::nullopt);
  REQUIRE(pair.ok());
  auto files = ReadTar(*pair);
  REQUIRE(files.size() == 3);
  CHECK(files.at("haproxy.cfg").text == kHaproxy);
  CHECK(files.at("keepalived.conf").text == "vrrp_instance VI_x {\n}\n");
  CHECK(files.at("service-ports").text == "443\n80\n");
  for (const auto& [name, m] : files) {
    INFO(name);
    CHECK(m.mode == 0644);
    CHECK(m.uid == 0);
    CHECK(m.mtime == 0);
  }
  // A single LB: no keepalived.conf, its Service VIPs as addresses.
  auto single = LbPayload(kHaproxy, "", {}, std::string("10.42.0.201/24\n"));
  REQUIRE(single.ok());
  files = ReadTar(*single);
  CHECK(files.count("keepalived.conf") == 0);
  CHECK(files.at("service-ports").text.empty());
  CHECK(files.at("addresses").text == "10.42.0.201/24\n");
  CHECK(*LbPayload(kHaproxy, "", {80}, std::nullopt) == *LbPayload(kHaproxy, "", {80}, std::nullopt));
  auto bad = LbPayload(kHaproxy, "", {70000}, std::nullopt);
  REQUIRE(!bad.ok());
  CHECK(bad.error().message().find("70000 is not a TCP port") != std::string::npos);
}

TEST_CASE("lb sync's cluster key is one 0600 set that OpenSSH reads back to the same public key, kept across runs") {
  testing::TempDir dir;
  std::string pub, key;
  {
    auto store = SecretStore::Open(dir / "secrets");
    REQUIRE(store.ok());
    auto p = store->Get("lb-ssh-pub/prod");
    REQUIRE(p.ok());
    pub = *p;
    key = *store->Get("lb-ssh-key/prod");
  }
  CHECK(pub.rfind("ecdsa-sha2-nistp256 ", 0) == 0);
  CHECK(pub.size() > 100);
  CHECK(pub.substr(pub.size() - 16) == " slipway-lb-prod");
  struct stat st {};
  REQUIRE(::stat((dir / "secrets/lb-ssh_prod/key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // A new store reads the same set back; a second cluster gets its own key.
  auto again = SecretStore::Open(dir / "secrets");
  CHECK(*again->Get("lb-ssh-pub/prod") == pub);
  CHECK(*again->Get("lb-ssh-key/prod") == key);
  CHECK(*again->Get("lb-ssh-pub/other") != pub);
  if (testing::Run("command -v ssh-keygen").exit_code != 0) {
    WARN("ssh-keygen is not installed: OpenSSH's read-back skipped");
  } else {
    auto derived = testing::Run("ssh-keygen -y -f " + dir / "secrets/lb-ssh_prod/key");
    INFO(derived.err);
    REQUIRE(derived.exit_code == 0);
    // ssh-keygen -y prints the key without its comment.
    CHECK(derived.out == pub.substr(0, pub.rfind(' ')) + "\n");
  }
  // Half a set (the public key lost) is an error naming the missing file.
  fs::remove(dir / "secrets/lb-ssh_prod/pub");
  auto partial = SecretStore::Open(dir / "secrets");
  auto got = partial->Get("lb-ssh-key/prod");
  REQUIRE(!got.ok());
  CHECK(got.error().message().find("pub") != std::string::npos);
}

TEST_CASE("lb-apply refuses hostile or broken payloads before it changes anything") {
  if (testing::Run("command -v haproxy && command -v keepalived && command -v tar").exit_code != 0) {
    WARN("haproxy, keepalived or tar is missing: skipped");
    return;
  }
  testing::TempDir dir;
  testing::WriteText(dir / "lb-apply", builder::LbApplyScript());
  auto apply = [&](const std::string& payload) {
    testing::WriteText(dir / "payload.tar", payload);
    return testing::Run("sh " + dir / "lb-apply < " + dir / "payload.tar");
  };
  auto tar_of = [&](const std::string& setup) {  // a tar made by GNU tar in dir/t
    fs::remove_all(dir / "t");
    fs::create_directories(dir / "t");
    REQUIRE(testing::Run("cd " + dir / "t && " + setup).exit_code == 0);
    return testing::ReadText(dir / "t/x.tar");
  };
  struct Case {
    std::string what, payload, want;
  };
  testing::WriteText(dir / "h.cfg", kHaproxy);
  std::vector<Case> cases = {
      {"not a tar", "hello\n", "the payload is not a tar archive"},
      {"a member that climbs out",
       tar_of("mkdir a && echo x > a/evil && tar --transform 's|^a/evil|../../etc/evil|' -cf x.tar a/evil"),
       "the payload holds '../../etc/evil'"},
      {"a symbolic link named haproxy.cfg", tar_of("ln -s /etc/shadow haproxy.cfg && tar -cf x.tar haproxy.cfg"),
       "something other than regular files"},
      {"an unknown file", tar_of("echo x > run.sh && tar -cf x.tar run.sh"), "the payload holds 'run.sh'"},
      {"no haproxy.cfg", *LbPayload("", "", {}, std::nullopt), "haproxy -c refused haproxy.cfg"},
      {"a broken haproxy.cfg", *LbPayload("frontend x\n    bind nonsense:\n", "", {}, std::nullopt),
       "haproxy -c refused haproxy.cfg"},
      {"a broken keepalived.conf", *LbPayload(kHaproxy, "vrrp_instance {\n  nonsense\n", {}, std::nullopt),
       "keepalived -t refused keepalived.conf"},
      {"a port that is a command",
       tar_of("printf '80\\n$(reboot)\\n' > service-ports && cp " + dir / "h.cfg" + " haproxy.cfg && " +
              "tar -cf x.tar haproxy.cfg service-ports"),
       "service-ports: '$(reboot)' is not a TCP port"},
      {"an address that is not one", *LbPayload(kHaproxy, "", {80}, std::string("10.0.0.1/24; reboot\n")),
       "addresses: '10.0.0.1/24;' is not A.B.C.D/PREFIX"},
      {"more than 4 MiB", std::string(4 * 1024 * 1024 + 10, 'x'), "larger than 4 MiB"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto r = apply(c.payload);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find(c.want) != std::string::npos);
    CHECK(r.err.find("nothing changed") != std::string::npos);
  }
}
