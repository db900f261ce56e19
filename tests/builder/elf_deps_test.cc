// The ELF walker against the dynamic loader's own answer (ldd).
#include "builder/elf_deps.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "common/strings.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::builder;
namespace fs = std::filesystem;

namespace {

// The files ldd says `program` loads (real paths), without the vDSO.
std::set<std::string> Ldd(const std::string& program) {
  auto r = testing::Run("ldd " + program);
  REQUIRE(r.exit_code == 0);
  std::set<std::string> out;
  for (const std::string& line : Split(r.out, '\n')) {
    std::string path;
    size_t arrow = line.find("=> ");
    if (arrow != std::string::npos) {
      path = line.substr(arrow + 3);
    } else {
      path = std::string(Trim(line));
    }
    path = path.substr(0, path.find(" ("));
    if (path.empty() || path[0] != '/') continue;
    out.insert(fs::canonical(path).string());
  }
  return out;
}

}  // namespace

TEST_CASE("the ELF closure of slipway is what ldd loads, and each library lands where the loader looks") {
  for (const std::string& program : {testing::Slipway(), std::string("/usr/bin/dbus-daemon")}) {
    auto closure = ElfClosure({program});
    REQUIRE(closure.ok());
    std::set<std::string> ours;
    for (const ElfFile& f : *closure) {
      if (f.source != fs::canonical(program).string()) ours.insert(f.source);
      // The target is a path the loader searches: the interpreter's own
      // path, or a default folder plus the soname.
      fs::path t(f.target);
      if (t.filename().string().rfind("ld-linux", 0) != 0 && f.source != fs::canonical(program).string()) {
        CHECK(t.parent_path() == "/usr/lib/x86_64-linux-gnu");
      }
    }
    INFO(program);
    CHECK(ours == Ldd(program));
  }
}

TEST_CASE("ReadElf reads the interpreter, DT_NEEDED and $ORIGIN runpaths") {
  auto systemd = ReadElf("/usr/lib/systemd/systemd");
  REQUIRE(systemd.ok());
  CHECK(systemd->interpreter == "/lib64/ld-linux-x86-64.so.2");
  CHECK(std::find(systemd->needed.begin(), systemd->needed.end(), "libc.so.6") != systemd->needed.end());
  CHECK(std::find(systemd->runpath.begin(), systemd->runpath.end(), "/usr/lib/x86_64-linux-gnu/systemd") !=
        systemd->runpath.end());
  auto busybox = ReadElf("/bin/busybox");
  REQUIRE(busybox.ok());
  CHECK(busybox->interpreter.empty());  // static
  CHECK(busybox->needed.empty());
}

TEST_CASE("the ELF walker names what it cannot read or find") {
  testing::TempDir t;
  testing::WriteText(t / "script", "#!/bin/sh\n");
  auto r = ReadElf(t / "script");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString() == t / "script" + " is not an ELF file");
  // A program whose libraries are in no folder searched.
  auto c = ElfClosure({testing::Slipway()}, {t.path()});
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().ToString().find("(needed by " + fs::canonical(testing::Slipway()).string() + ") is in none of ") !=
        std::string::npos);
  auto missing = ElfClosure({t / "nope"});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().ToString() == "cannot find " + t / "nope");
}
