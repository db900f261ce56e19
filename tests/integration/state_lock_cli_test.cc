// One writer per state folder, through the real binaries: while another
// process holds STATE/slipway.lock, apply, destroy and slipway-installer
// exit 1 at once and name the holder; read-only commands do not care.
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "common/state_lock.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::testing;

namespace {

std::string InstallerBinary() {
  std::string s = Slipway();
  return s.substr(0, s.rfind('/')) + "/slipway-installer";
}

}  // namespace

TEST_CASE("apply, destroy and slipway-installer refuse a state folder another process writes") {
  TempDir dir;
  std::string state = dir / "state";
  // A shell that holds the lock the way a running apply does, by flock(1)
  // on the same file, and writes its pid as the holder.
  std::filesystem::create_directories(state);
  std::string lockfile = state + "/" + kStateLockFile;
  std::string ready = dir / "ready";
  pid_t holder = ::fork();
  REQUIRE(holder >= 0);
  if (holder == 0) {
    ::execl(
        "/bin/sh", "sh", "-c",
        ("exec 9>>'" + lockfile + "' && flock -x 9 && printf 'pid %s\\ncommand slipway apply held-by-test\\n' $$ > '" +
         lockfile + "' && touch '" + ready + "' && exec sleep 30")
            .c_str(),
        static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200 && !std::filesystem::exists(ready); ++i) ::usleep(10000);
  REQUIRE(std::filesystem::exists(ready));
  const std::string named = "is in use by pid " + std::to_string(holder) + " (slipway apply held-by-test)";

  auto start = std::chrono::steady_clock::now();
  // apply reads the plan first (bad input is exit 2 whatever the lock), so give it a real one.
  std::string fx = Fixtures() + "/hosts/uefi-secureboot";
  auto p =
      Run(Slipway() + " detect --json --sysroot " + fx + " --fs-usage " + fx + "/statvfs.json > " + dir / "hw.json" +
          " && " + Slipway() + " plan --profile smoke --hardware " + dir / "hw.json" + " --out " + dir / "plan.json");
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  start = std::chrono::steady_clock::now();
  auto r = Run(Slipway() + " apply " + dir / "plan.json" + " --state " + state);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(named) != std::string::npos);
  CHECK(!std::filesystem::exists(state + "/journal.jsonl"));

  r = Run(Slipway() + " destroy --all --state " + state);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(named) != std::string::npos);

  r = Run(InstallerBinary() + " --answer /nonexistent --state " + state + " </dev/null");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(named) != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

  // Read-only commands never take the lock.
  r = Run(Slipway() + " check " + SourceDir() + "/profiles");
  CHECK(r.exit_code == 0);

  ::kill(holder, SIGTERM);
  int status;
  ::waitpid(holder, &status, 0);
  r = Run(Slipway() + " destroy --all --state " + state);
  INFO(r.err);
  CHECK(r.exit_code == 0);
}
