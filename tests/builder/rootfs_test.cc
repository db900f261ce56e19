// Secure tarball extraction: hostile tarballs built here with libarchive.
#include "builder/rootfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "test_util.h"

using namespace slipway;
using namespace slipway::builder;
namespace fs = std::filesystem;

namespace {

struct Entry {
  Entry(std::string p, mode_t t = AE_IFREG, std::string d = "", std::string l = "", std::string h = "")
      : path(std::move(p)), type(t), data(std::move(d)), link(std::move(l)), hard(std::move(h)) {}
  std::string path;
  mode_t type;
  std::string data;  ///< file content
  std::string link;  ///< symlink target
  std::string hard;  ///< hard link target
};

std::string MakeTar(const testing::TempDir& dir, const std::string& name, const std::vector<Entry>& entries) {
  std::string path = dir / name;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_filename(a, path.c_str());
  for (const Entry& e : entries) {
    archive_entry* x = archive_entry_new();
    archive_entry_set_pathname(x, e.path.c_str());
    archive_entry_set_filetype(x, e.type);
    archive_entry_set_perm(x, e.type == AE_IFDIR ? 0755 : 0644);
    if (!e.link.empty()) archive_entry_set_symlink(x, e.link.c_str());
    if (!e.hard.empty()) archive_entry_set_hardlink(x, e.hard.c_str());
    if (e.type == AE_IFCHR) archive_entry_set_rdev(x, makedev(1, 3));
    archive_entry_set_size(x, e.type == AE_IFREG && e.hard.empty() ? static_cast<la_int64_t>(e.data.size()) : 0);
    archive_write_header(a, x);
    if (e.type == AE_IFREG && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(x);
  }
  archive_write_close(a);
  archive_write_free(a);
  return path;
}

std::string Refusal(const std::vector<Entry>& entries, ExtractPolicy policy = {}) {
  testing::TempDir dir;
  std::string tar = MakeTar(dir, "t.tar", entries);
  auto st = ExtractTarball(tar, dir / "out", policy);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code() == ExitCode::kInput);
  CHECK_FALSE(fs::exists(dir / "out"));  // no partial tree that looks valid
  CHECK_FALSE(fs::exists(dir / "evil"));
  std::string msg = st.error().ToString();
  return msg.substr(tar.size() + 2);  // drop "<tar>: "
}

}  // namespace

TEST_CASE("a well-formed tarball extracts with its links") {
  testing::TempDir dir;
  std::string tar = MakeTar(dir, "ok.tar",
                            {{"etc", AE_IFDIR},
                             {"etc/hostname", AE_IFREG, "node\n"},
                             {"bin", AE_IFDIR},
                             {"bin/sh", AE_IFREG, "#!"},
                             {"usr", AE_IFDIR},
                             {"usr/bin", AE_IFDIR},
                             {"usr/bin/sh", AE_IFLNK, "", "../../bin/sh"},
                             {"bin/ash", AE_IFREG, "", "", "bin/sh"}});
  REQUIRE(ExtractTarball(tar, dir / "out", {}).ok());
  CHECK(testing::ReadText(dir / "out/etc/hostname") == "node\n");
  CHECK(fs::read_symlink(dir / "out/usr/bin/sh") == "../../bin/sh");
  CHECK(fs::hard_link_count(dir / "out/bin/sh") == 2);
}

TEST_CASE("hostile tarballs are refused, naming the entry, and leave nothing behind") {
  CHECK(Refusal({{"../evil", AE_IFREG, "x"}}) == "entry '../evil' contains '..'; nothing was extracted");
  CHECK(Refusal({{"a/../../evil", AE_IFREG, "x"}}) == "entry 'a/../../evil' contains '..'; nothing was extracted");
  CHECK(Refusal({{"/etc/passwd", AE_IFREG, "x"}}) == "entry '/etc/passwd' has an absolute path; nothing was extracted");
  CHECK(Refusal({{"etc", AE_IFDIR}, {"etc/up", AE_IFLNK, "", "../../outside"}}) ==
        "symlink 'etc/up' escapes the root (points at '../../outside'); nothing was extracted");
  CHECK(Refusal({{"etc", AE_IFDIR}, {"etc/abs", AE_IFLNK, "", "/etc/shadow"}}) ==
        "symlink 'etc/abs' points at the absolute path '/etc/shadow'; refused by default (set [rootfs] "
        "allow_absolute_symlinks = true to accept absolute links, which extraction never follows); nothing was "
        "extracted");
  CHECK(Refusal({{"x", AE_IFREG, "", "", "../outside"}}) ==
        "hard link 'x' points outside the root ('../outside'); nothing was extracted");
  CHECK(Refusal({{"dev", AE_IFDIR}, {"dev/null", AE_IFCHR}}) ==
        "entry 'dev/null' is a device node; set [rootfs] allow_device_nodes = true if the image needs it; nothing "
        "was extracted");
}

TEST_CASE("a later entry cannot write through an allowed absolute symlink") {
  testing::TempDir dir;
  std::string tar = MakeTar(dir, "t.tar", {{"escape", AE_IFLNK, "", dir / "victim"}, {"escape/file", AE_IFREG, "x"}});
  fs::create_directories(dir / "victim");
  auto st = ExtractTarball(tar, dir / "out", {false, true});
  CHECK_FALSE(st.ok());
  CHECK_FALSE(fs::exists(dir / "victim/file"));
  CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("device nodes are extracted when the definition allows them") {
  testing::TempDir dir;
  std::string tar = MakeTar(dir, "t.tar", {{"dev", AE_IFDIR}, {"dev/null", AE_IFCHR}});
  REQUIRE(ExtractTarball(tar, dir / "out", {true, false}).ok());
  CHECK(fs::is_character_file(dir / "out/dev/null"));
}

TEST_CASE("a corrupt or missing tarball is a clear error") {
  testing::TempDir dir;
  testing::WriteText(dir / "bad.tar", std::string(1024, 'x'));
  auto st = ExtractTarball(dir / "bad.tar", dir / "out", {});
  REQUIRE_FALSE(st.ok());
  CHECK_FALSE(fs::exists(dir / "out"));
  auto missing = ExtractTarball(dir / "none.tar", dir / "out2", {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().ToString().find("cannot read") != std::string::npos);
}
