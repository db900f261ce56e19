// HAProxy's reload with the config lb sync renders (integration, root): in a
// private network namespace, the Service VIP and the workers' addresses on
// lo, a Perl HTTP backend on the NodePort, and HAProxy in master-worker mode
// as Debian's unit runs it. GETs run to the VIP while the master gets USR2
// (what `systemctl reload haproxy` sends) again and again: no GET may fail.
// The control restarts HAProxy instead, and the same count sees the drops.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/strings.h"
#include "test_util.h"

using namespace slipway;

namespace {

constexpr const char* kServices = R"({"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
   "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "protocol": "TCP", "port": 80, "nodePort": 30080}]},
   "status": {"loadBalancer": {}}}]})";

// The script's result lines: "ok" or "error ..." per GET, "reloads N". GETs
// run one after the other until `reloads` reloads (or restarts) happened.
struct Count {
  int ok = 0, errors = 0, reloads = 0;
  std::string errors_text, log;
};

Count Run(const testing::TempDir& dir, const std::string& how, int reloads) {
  std::string cfg = testing::ReadText(dir / "out/haproxy.cfg");
  // The Service's VIP and its backends (every worker on the NodePort).
  std::string vip, addrs;
  for (const std::string& line : Split(cfg, '\n')) {
    if (line.rfind("    bind ", 0) == 0 && line.find(":80 transparent") != std::string::npos) {
      vip = line.substr(9, line.find(':') - 9);
    }
    if (line.rfind("    server node", 0) == 0 && line.find(":30080") != std::string::npos) {
      std::string ip = line.substr(line.rfind(' ') + 1);
      addrs += " " + ip.substr(0, ip.find(':'));
    }
  }
  REQUIRE(!vip.empty());
  REQUIRE(!addrs.empty());
  testing::WriteText(dir / "backend.pl", R"PL(use strict; use IO::Socket::INET;
$SIG{PIPE} = 'IGNORE';
my $s = IO::Socket::INET->new(LocalPort => 30080, Listen => 64, ReuseAddr => 1) or die "bind: $!";
while (my $c = $s->accept) {
  while (my $l = <$c>) { last if $l =~ /^\r?\n$/; }
  print $c "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nslipway backend\n";
  close $c;
}
)PL");
  std::string script = R"SH(set -u
cd @DIR@
ip link set lo up && ip addr add @VIP@/32 dev lo || exit 2
for a in @ADDRS@; do ip addr add $a/32 dev lo || exit 2; done
# HAProxy asks for 2 FDs per connection of maxconn (20000); this machine's
# hard limit may be lower (an LB VM's is not), so -n lowers maxconn here.
perl backend.pl & pb=$!
haproxy -W -n 2000 -f out/haproxy.cfg -p haproxy.pid >haproxy.log 2>&1 & ph=$!
trap 'kill $pb $ph $pr 2>/dev/null; wait' EXIT
pr=
for i in $(seq 40); do [ -s haproxy.pid ] && timeout 1 bash -c 'exec 3<>/dev/tcp/@VIP@/80' 2>/dev/null && break; sleep 0.25; done
# The reloads: USR2 to the master every 0.3 s, as `systemctl reload` sends.
# The control (restart): the master stops and a new one starts.
( n=0
  while [ ! -e stop ]; do
    sleep 0.3
    if [ @HOW@ = reload ]; then kill -USR2 "$(head -n 1 haproxy.pid)"; else
      old=$(head -n 1 haproxy.pid)
      kill "$old"; while kill -0 "$old" 2>/dev/null; do sleep 0.01; done
      haproxy -W -n 2000 -f out/haproxy.cfg -p haproxy.pid >>haproxy.log 2>&1 &
      # The new master's pid, before the next restart or the end kills it.
      for i in $(seq 250); do [ "$(head -n 1 haproxy.pid)" != "$old" ] && break; sleep 0.02; done
    fi
    n=$((n + 1))
    echo $n >reloads.new && mv reloads.new reloads
  done
  echo "reloads $n" ) & pr=$!
# GETs, one after the other, until @RELOADS@ reloads have happened (at most 60 s).
end=$(($(date +%s) + 60))
while [ "$(cat reloads 2>/dev/null || echo 0)" -lt @RELOADS@ ] && [ "$(date +%s)" -lt $end ]; do
  got=$(timeout 5 bash -c 'exec 3<>/dev/tcp/@VIP@/80 && printf "GET / HTTP/1.0\r\n\r\n" >&3 && cat <&3' 2>&1 |
    head -c 200 | tr -c '[:print:]' ' ')
  case "$got" in *'slipway backend'*) echo ok ;; *) echo "error $(date +%s.%N): $got" ;; esac
done
touch stop
wait $pr
kill "$(head -n 1 haproxy.pid)" 2>/dev/null
exit 0
)SH";
  script = testing::FillTemplate(std::move(script), {{"@DIR@", dir.path()},
                                                     {"@VIP@", vip},
                                                     {"@ADDRS@", addrs},
                                                     {"@HOW@", how},
                                                     {"@RELOADS@", std::to_string(reloads)}});
  testing::WriteText(dir / "run.sh", script);
  auto r = testing::Run("unshare --net --fork -- bash " + dir / "run.sh");
  Count c;
  c.log = r.err + testing::ReadText(dir / "haproxy.log").substr(0, 3000);
  INFO(c.log);
  REQUIRE(r.exit_code == 0);
  for (const std::string& line : Split(r.out, '\n')) {
    if (line == "ok") ++c.ok;
    if (line.rfind("error", 0) == 0) {
      ++c.errors;
      if (c.errors_text.size() < 2000) c.errors_text += line + "\n";
    }
    if (line.rfind("reloads ", 0) == 0) c.reloads = std::atoi(line.c_str() + 8);
  }
  return c;
}

void RenderConfig(const testing::TempDir& dir) {
  std::string h = testing::Fixtures() + "/hosts/uefi-secureboot";
  auto r = testing::Run(testing::Slipway() + " plan --sysroot " + h + " --fs-usage " + h + "/statvfs.json --cluster " +
                        testing::SourceDir() + "/profiles/clusters/prod.toml --out " + dir / "plan.json");
  REQUIRE(r.exit_code == 0);
  testing::WriteText(dir / "svc.json", kServices);
  r = testing::Run(testing::Slipway() + " lb sync --plan " + dir / "plan.json" + " --cluster prod --state " +
                   dir / "state" + " --out-dir " + dir / "out --render-only --services " + dir / "svc.json");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TEST_CASE("HAProxy reloads the config lb sync renders without failing a connection, where a restart fails some") {
  SECTION("reload (USR2 to the master-worker master)") {
    testing::TempDir dir;
    RenderConfig(dir);
    Count c = Run(dir, "reload", 15);
    INFO(c.log << "\nfailed GETs:\n" << c.errors_text);
    CHECK(c.reloads >= 15);
    CHECK(c.ok >= 100);  // GETs through every reload
    CHECK(c.errors == 0);
  }
  SECTION("control: a restart instead of a reload") {
    testing::TempDir dir;
    RenderConfig(dir);
    Count c = Run(dir, "restart", 15);
    INFO(c.log);
    CHECK(c.reloads >= 15);
    CHECK(c.errors > 0);
  }
}
