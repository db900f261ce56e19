#include "common/atomic_file.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "test_util.h"

using namespace slipway;

TEST_CASE("atomic write replaces the file and leaves no temp file") {
  testing::TempDir dir;
  std::string path = dir / "state.json";
  REQUIRE(WriteFileAtomic(path, "one").ok());
  REQUIRE(WriteFileAtomic(path, "two").ok());
  CHECK(testing::ReadText(path) == "two");
  size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("atomic write sets the exact mode for secrets, whatever the umask") {
  testing::TempDir dir;
  std::string path = dir / "token";
  mode_t old = ::umask(0);
  REQUIRE(WriteFileAtomic(path, "secret", 0600).ok());
  ::umask(old);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("atomic write into a missing folder fails with the path and reason") {
  auto s = WriteFileAtomic("/nonexistent-slipway/x", "data");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().ToString().find("/nonexistent-slipway/x.tmp.") != std::string::npos);
  CHECK(s.error().ToString().find("No such file or directory") != std::string::npos);
  auto r = ReadFile("/nonexistent-slipway/y");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().ToString() == "cannot open /nonexistent-slipway/y: No such file or directory");
}
