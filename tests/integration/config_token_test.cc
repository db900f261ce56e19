// ConfigToken against the real haproxy: each hostile value, quoted by
// ConfigToken, is read back by haproxy's own tokenizer as exactly the value.
// haproxy -c names the server it refuses ("character ' ' is not permitted in
// server name 'X'"), which shows what it read; a value it accepts passes -c.
#include <catch2/catch.hpp>

#include "common/escape.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::testing;

TEST_CASE("haproxy reads every ConfigToken-quoted value back as the value") {
  const std::vector<std::string> values = {"prod-cp-1",      "a b",  "say \"hi\"", "back\\slash", "$HOME ${HOME}",
                                           "#not-a-comment", "it's", "x;y|z&w",    "`id` $(id)",  "gr\xC3\xBC\xC3\x9F"};
  TempDir dir;
  for (const std::string& v : values) {
    auto token = ConfigToken(v);
    REQUIRE(token.ok());
    std::string cfg = dir / "haproxy.cfg";
    WriteText(cfg,
              "global\n    maxconn 100\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 1h\n"
              "    timeout server 1h\nfrontend fe\n    bind 127.0.0.1:16443\n    default_backend be\nbackend be\n"
              "    server " +
                  *token + " 10.0.0.1:6443\n");
    auto r = Run("haproxy -c -f " + cfg);
    INFO(v << " -> " << *token << "\n" << r.out << r.err);
    std::string out = r.out + r.err;
    size_t at = out.find("in server name '");
    if (r.exit_code == 0) {
      CHECK(v.find_first_of(" \"\\$#'`;|&()") == std::string::npos);  // a plain name: accepted as is
    } else {
      REQUIRE(at != std::string::npos);
      size_t start = at + 16;
      size_t end = out.find("'.\n", start);
      REQUIRE(end != std::string::npos);
      CHECK(out.substr(start, end - start) == v);
    }
  }
}

// KeepalivedToken against the real keepalived: each value names a VRRP
// instance whose interface does not exist, and keepalived -t names the
// instance as it read it ("interface nodev0 for vrrp_instance X doesn't
// exist"). Values keepalived cannot read back are refused.
TEST_CASE("keepalived reads every KeepalivedToken-quoted value back as the value, and the rest is refused") {
  const std::vector<std::string> values = {"VI_prod", "a b",     "back\\slash", "#not-a-comment",    "!bang",
                                           "it's",    "x;y|z&w", "`id` (id)",   "gr\xC3\xBC\xC3\x9F"};
  TempDir dir;
  for (const std::string& v : values) {
    auto token = KeepalivedToken(v);
    REQUIRE(token.ok());
    std::string cfg = dir / "keepalived.conf";
    WriteText(cfg, "vrrp_instance " + *token +
                       " {\n    state MASTER\n    interface nodev0\n    virtual_router_id 51\n    priority 100\n"
                       "    virtual_ipaddress {\n        192.0.2.9/24\n    }\n}\n");
    auto r = Run("keepalived -t -f " + cfg + " -l -D -n");
    INFO(v << " -> " << *token << "\n" << r.out << r.err);
    std::string out = r.out + r.err;
    CHECK(out.find("interface nodev0 for vrrp_instance " + v + " doesn't exist") != std::string::npos);
  }
  for (const std::string& bad : std::vector<std::string>{"say \"hi\"", "$HOME", "a\nb", std::string("a\0b", 3)}) {
    INFO(bad);
    CHECK(!KeepalivedToken(bad).ok());
  }
}
