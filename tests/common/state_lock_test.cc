// The state-folder lock, across two real processes: a child holds it, the
// parent is refused at once with the child's pid and command line.
#include "common/state_lock.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "test_util.h"

using namespace slipway;
using namespace slipway::testing;

namespace {

// A child process that takes the lock on `dir`, reports, then waits until
// the parent closes `release`'s write end.
struct Holder {
  pid_t pid = -1;
  int release_w = -1;

  Holder(const std::string& dir, const std::string& command) {
    int ready[2], release[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(release) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      auto lock = StateLock::Acquire(dir, command);
      char ok = lock.ok() ? 'y' : 'n';
      [[maybe_unused]] ssize_t w = ::write(ready[1], &ok, 1);
      char c;
      [[maybe_unused]] ssize_t r = ::read(release[0], &c, 1);  // EOF when the parent lets go
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_w = release[1];
    char ok = 'n';
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    ::close(ready[0]);
    REQUIRE(ok == 'y');
  }
  void Release() {
    if (pid < 0) return;
    ::close(release_w);
    int status;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
  ~Holder() { Release(); }
};

}  // namespace

TEST_CASE("a second writer of a state folder is refused at once, naming the holder's pid and command") {
  TempDir dir;
  std::string state = dir / "state";
  Holder holder(state, "slipway apply plan.json --state " + state);
  auto start = std::chrono::steady_clock::now();
  auto second = StateLock::Acquire(state, "slipway destroy --all");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  REQUIRE(!second.ok());
  CHECK(second.error().code() == ExitCode::kRuntime);
  CHECK(second.error().message() == "state folder " + state + " is in use by pid " + std::to_string(holder.pid) +
                                        " (slipway apply plan.json --state " + state +
                                        "); only one apply, destroy or slipway-installer may write it at a time. "
                                        "Wait for it to finish (or stop it), then run this again");
  holder.Release();
  // The kernel drops the lock with the holder: the next writer gets it.
  auto third = StateLock::Acquire(state, "slipway destroy --all");
  REQUIRE(third.ok());
  CHECK(ReadText(third->path()) == "pid " + std::to_string(::getpid()) + "\ncommand slipway destroy --all\n");
}

TEST_CASE("the lock is released when its holder is dropped") {
  TempDir dir;
  {
    auto a = StateLock::Acquire(dir.path());
    REQUIRE(a.ok());
  }
  auto b = StateLock::Acquire(dir.path());
  CHECK(b.ok());
}

TEST_CASE("a new state folder is created private to its owner") {
  TempDir dir;
  auto lock = StateLock::Acquire(dir / "new");
  REQUIRE(lock.ok());
  struct stat st {};
  REQUIRE(::stat((dir / "new").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}
