// The ISO writer's reproducibility under a moving source: another process
// reading a staged file between libisofs's two stat calls of its two hard
// links (what CI did to firmware.toml, staged at /firmware and in the live
// root) must not change the image. Read back with libarchive.
#include "builder/iso_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <thread>

#include "common/hash.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::builder;
namespace fs = std::filesystem;

namespace {

// Each regular file's Rock Ridge link count, by path.
std::map<std::string, unsigned> LinkCounts(const std::string& iso) {
  std::map<std::string, unsigned> counts;
  archive* a = archive_read_new();
  archive_read_support_format_iso9660(a);
  if (archive_read_open_filename(a, iso.c_str(), 1 << 16) == ARCHIVE_OK) {
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      if (archive_entry_filetype(e) == AE_IFREG) counts[archive_entry_pathname(e)] = archive_entry_nlink(e);
    }
  }
  archive_read_free(a);
  return counts;
}

// A tree with one file staged twice (hard links, far apart in the order the
// writer adds them) and 3,000 files between them.
void StageTree(const testing::TempDir& t) {
  testing::WriteText(t / "stage/a/shared.toml", "x = 1\n");
  for (int i = 0; i < 3000; ++i) testing::WriteText(t / ("stage/m/f" + std::to_string(i)), std::to_string(i));
  fs::create_directories(t / "stage/z");
  fs::create_hard_link(t / "stage/a/shared.toml", t / "stage/z/shared.toml");
}

}  // namespace

TEST_CASE("an ISO does not change when a staged file's atime moves while it is written") {
  testing::TempDir t;
  StageTree(t);
  IsoOptions o;
  o.source_date_epoch = 1700000000;
  REQUIRE(WriteIso(t / "stage", o, t / "quiet.iso"));
  // The same tree, while another thread keeps moving the shared file's atime
  // (and so its ctime), as a reader elsewhere on the machine does.
  std::atomic<bool> stop{false};
  std::string shared = t / "stage/a/shared.toml";
  std::thread churn([&] {
    for (long i = 1; !stop.load(); ++i) {
      timespec times[2] = {{1600000000 + i, 0}, {0, UTIME_OMIT}};
      ::utimensat(AT_FDCWD, shared.c_str(), times, 0);
    }
  });
  for (int round = 0; round < 3; ++round) {
    Status st = WriteIso(t / "stage", o, t / "busy.iso");
    REQUIRE(st);
    INFO("round " << round);
    CHECK(Sha256File(t / "busy.iso").value() == Sha256File(t / "quiet.iso").value());
  }
  stop = true;
  churn.join();
  // Both links are one file with two names, in either image.
  auto counts = LinkCounts(t / "busy.iso");
  CHECK(counts["a/shared.toml"] == 2);
  CHECK(counts["z/shared.toml"] == 2);
  CHECK(LinkCounts(t / "quiet.iso")["m/f0"] == 1);
}
