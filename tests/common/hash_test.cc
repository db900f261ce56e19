// SHA-256 of files, including sparse disk images whose holes are hashed
// without being read.
#include "common/hash.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "test_util.h"

using namespace slipway;

TEST_CASE("Sha256File gives the FIPS 180-2 digest of 'abc'") {
  testing::TempDir t;
  testing::WriteText(t / "abc", "abc");
  CHECK(*Sha256File(t / "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("Sha256File of a sparse file agrees with sha256sum, holes included") {
  testing::TempDir t;
  std::string img = t / "sparse.img";
  int fd = ::open(img.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  // A hole, data across a 1 MiB boundary, a hole, data, and a trailing hole.
  REQUIRE(::ftruncate(fd, (64 << 20) + 123) == 0);
  std::string a(3 << 20, 'a'), b = "tail of the data";
  REQUIRE(::pwrite(fd, a.data(), a.size(), (5 << 20) - 7) == static_cast<ssize_t>(a.size()));
  REQUIRE(::pwrite(fd, b.data(), b.size(), 40 << 20) == static_cast<ssize_t>(b.size()));
  ::close(fd);
  auto tool = testing::Run("sha256sum " + img + " | cut -d' ' -f1");
  REQUIRE(tool.exit_code == 0);
  CHECK(*Sha256File(img) + "\n" == tool.out);
  CHECK_FALSE(Sha256File(t / "missing").ok());
}
