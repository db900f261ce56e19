// A real keepalived pair (integration, root): two network namespaces joined
// by a veth, each running keepalived -P with the config Slipway generates.
// lb sync installs the standby first, so for a while the pair holds different
// Service VIP lists. The pair must keep one master through that window; the
// control case shows that the check sees a split when the Service VIPs are in
// the adverts.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/strings.h"
#include "installer/plan/config_gen.h"
#include "test_util.h"

using namespace slipway;

namespace {

constexpr const char* kApiVip = "10.99.0.200";

// Which side holds the API VIP, per half second.
struct Holder {
  bool a = false, b = false;
};

std::string Config(size_t index, const std::vector<std::string>& service_vips) {
  std::vector<installer::VrrpPeer> peers = {{"pair-lb-1", "10.99.0.11"}, {"pair-lb-2", "10.99.0.12"}};
  auto k = installer::KeepalivedConfig("pair", index, peers, kApiVip, 24, service_vips);
  REQUIRE(k);
  return *k;
}

// Runs the pair: A (the master, lb-1) with a.conf until it is master; then
// B (the standby, lb-2) with b.conf, as an LB that lb sync has just
// installed. From when B runs its VRRP instance, `samples` half seconds
// (fewer with `until_split`: until B holds the API VIP too); then A gets a2.conf and a reload (lb
// sync's second install), and `samples_after` more follow. Each sample: which side
// holds the API VIP, and whether A holds `service_vip`.
struct PairRun {
  std::vector<Holder> before, after;
  bool a_has_service_after = false;
  std::string log;
};

PairRun RunPair(const testing::TempDir& dir, int samples, int samples_after, const std::string& service_vip,
                bool until_split = false) {
  std::string script = R"SH(set -u
n=slwka$$
ip netns add ${n}a && ip netns add ${n}b || exit 2
pa= pb=
trap 'kill $pa $pb 2>/dev/null; wait; ip netns del ${n}a; ip netns del ${n}b' EXIT
ip link add eth0 netns ${n}a type veth peer name eth0 netns ${n}b || exit 2
for s in a:11 b:12; do
  ip -n $n${s%%:*} addr add 10.99.0.${s##*:}/24 dev eth0 && ip -n $n${s%%:*} link set eth0 up &&
    ip -n $n${s%%:*} link set lo up || exit 2
done
# exec: $pa and $pb are keepalived's own parent processes, which the trap
# stops (with their VRRP children) and SIGHUP reloads.
ka() { exec ip netns exec $n$1 keepalived -n -l -D -P -f @DIR@/$1.conf -p @DIR@/$1.pid -r @DIR@/$1.vrrp.pid; }
holds() { ip -n $n$1 -4 -o addr show dev eth0 | grep -c " $2/"; }
ka a >@DIR@/a.log 2>&1 & pa=$!
# keepalived starts as BACKUP and takes over after 3 missed adverts.
for i in $(seq 60); do [ "$(holds a @API@)" = 1 ] && break; sleep 0.25; done
[ "$(holds a @API@)" = 1 ] || { echo "A never became master" >&2; exit 3; }
ka b >@DIR@/b.log 2>&1 & pb=$!
# The window starts when B runs its VRRP instance, however slowly it started.
for i in $(seq 80); do grep -q "Entering BACKUP STATE" @DIR@/b.log && break; sleep 0.25; done
grep -q "Entering BACKUP STATE" @DIR@/b.log || { echo "B never ran its VRRP instance" >&2; exit 3; }
for i in $(seq @SAMPLES@); do
  sleep 0.5
  b=$(holds b @API@)
  echo "before $(holds a @API@) $b"
  [ "@UNTIL_SPLIT@" = 1 ] && [ "$b" = 1 ] && break
done
cp @DIR@/a2.conf @DIR@/a.conf && kill -HUP $pa
for i in $(seq @AFTER@); do sleep 0.5; echo "after $(holds a @API@) $(holds b @API@) $(holds a @SVC@)"; done
)SH";
  script = testing::FillTemplate(std::move(script), {{"@DIR@", dir.path()},
                                                     {"@SAMPLES@", std::to_string(samples)},
                                                     {"@AFTER@", std::to_string(samples_after)},
                                                     {"@UNTIL_SPLIT@", until_split ? "1" : "0"},
                                                     {"@API@", kApiVip},
                                                     {"@SVC@", service_vip}});
  testing::WriteText(dir / "pair.sh", script);
  auto r = testing::Run("bash " + dir / "pair.sh");
  PairRun out;
  out.log = r.out + r.err + "\nA's keepalived:\n" + testing::ReadText(dir / "a.log") + "\nB's keepalived:\n" +
            testing::ReadText(dir / "b.log");
  INFO(out.log);
  REQUIRE(r.exit_code == 0);
  for (const std::string& line : Split(r.out, '\n')) {
    auto f = Split(line, ' ');
    if (f.size() >= 3 && f[0] == "before") out.before.push_back({f[1] == "1", f[2] == "1"});
    if (f.size() >= 4 && f[0] == "after") {
      out.after.push_back({f[1] == "1", f[2] == "1"});
      out.a_has_service_after = f[3] == "1";
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a keepalived pair whose Service VIP lists differ during lb sync keeps one master") {
  INFO("network namespaces need root, as the other integration tests that run daemons");
  REQUIRE(::geteuid() == 0);
  const std::string svc = "10.99.0.201";
  // 4 s: more than the standby's master-down interval (3 adverts of 1 s
  // and a skew below 1 s).
  const int samples = 8;

  SECTION("Slipway's config: the Service VIPs are out of the adverts") {
    testing::TempDir dir;
    testing::WriteText(dir / "a.conf", Config(0, {}));
    testing::WriteText(dir / "b.conf", Config(1, {svc}));  // the standby, installed first
    testing::WriteText(dir / "a2.conf", Config(0, {svc}));
    auto run = RunPair(dir, samples, 4, svc);
    INFO(run.log);
    REQUIRE(run.before.size() == samples);
    REQUIRE(run.after.size() == 4);
    // The master holds the API VIP throughout; the standby never takes it.
    for (const Holder& h : run.before) {
      CHECK(h.a);
      CHECK_FALSE(h.b);
    }
    for (const Holder& h : run.after) {
      CHECK(h.a);
      CHECK_FALSE(h.b);
    }
    // The master's reload added the new Service VIP.
    CHECK(run.a_has_service_after);
  }

  SECTION("control: with the Service VIPs in the adverts, the standby takes the VIPs too") {
    testing::TempDir dir;
    // The same configs with the excluded block folded into the advertised one.
    auto advertised = [](std::string text) {
      const std::string join = "    }\n    virtual_ipaddress_excluded {\n";
      size_t at = text.find(join);
      if (at != std::string::npos) text.erase(at, join.size());
      return text;
    };
    testing::WriteText(dir / "a.conf", advertised(Config(0, {})));
    std::string b = advertised(Config(1, {svc}));
    REQUIRE(b.find("virtual_ipaddress_excluded") == std::string::npos);
    testing::WriteText(dir / "b.conf", b);
    testing::WriteText(dir / "a2.conf", advertised(Config(0, {svc})));
    auto run = RunPair(dir, 20, 0, svc, /*until_split=*/true);
    INFO(run.log);
    bool split = false;
    for (const Holder& h : run.before) split = split || h.b;
    CHECK(split);
  }
}
