// ISO writing with libisofs.
#include "builder/iso_writer.h"

#include <fcntl.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
// No libburn here: libisofs then defines struct burn_source itself.
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "common/atomic_file.h"

namespace slipway::builder {

namespace {

std::string IsoError(const std::string& what, int r) {
  const char* msg = iso_error_to_msg(r);
  return what + ": " + (msg ? msg : "libisofs error " + std::to_string(r));
}

void PinTimes(IsoNode* node, time_t t) {
  iso_node_set_mtime(node, t);
  iso_node_set_atime(node, t);
  iso_node_set_ctime(node, t);
}

// Adds `dir`'s entries in name order: libisofs numbers nodes in the order
// they are added, and readdir order differs from one build to the next.
// Each node's times are pinned as it is added: libisofs counts two nodes as
// one hard-link family (Rock Ridge's link count) only when their stat
// matches, and a file staged twice is stat'ed twice; when another process
// reads it in between, its atime moves and the count (1 or 2) changes.
int AddSorted(IsoImage* image, IsoDir* parent, const std::filesystem::path& dir, time_t t) {
  std::vector<std::filesystem::path> entries;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) entries.push_back(e.path());
  std::sort(entries.begin(), entries.end());
  for (const auto& p : entries) {
    std::string name = p.filename().string();
    if (std::filesystem::is_directory(std::filesystem::symlink_status(p))) {
      IsoDir* sub = nullptr;
      int r = iso_tree_add_new_dir(parent, name.c_str(), &sub);
      if (r < 0) return r;
      PinTimes(reinterpret_cast<IsoNode*>(sub), t);
      if ((r = AddSorted(image, sub, p, t)) < 0) return r;
    } else {
      IsoNode* node = nullptr;
      int r = iso_tree_add_new_node(image, parent, name.c_str(), p.c_str(), &node);
      if (r < 0) return r;
      PinTimes(node, t);
    }
  }
  return 1;
}

}  // namespace

Status WriteIso(const std::string& staging, const IsoOptions& o, const std::string& out) {
  static bool initialized = [] { return iso_init() >= 0; }();
  if (!initialized) return Error::Runtime("libisofs failed to initialize");
  IsoImage* image = nullptr;
  int r = iso_image_new(o.volume_id.c_str(), &image);
  if (r < 0) return Error::Runtime(IsoError("cannot create the ISO image", r));
  auto done = [&](Status st) {
    iso_image_unref(image);
    return st;
  };
  iso_image_set_volset_id(image, o.volume_id.c_str());
  iso_image_set_publisher_id(image, "SLIPWAY");
  iso_image_set_application_id(image, "SLIPWAY INSTALLER");
  iso_tree_set_follow_symlinks(image, 0);
  iso_tree_set_ignore_hidden(image, 0);
  r = AddSorted(image, iso_image_get_root(image), staging, static_cast<time_t>(o.source_date_epoch));
  if (r < 0) return done(Error::Runtime(IsoError("cannot add " + staging, r)));
  if (!o.bios_boot.empty()) {
    ElToritoBootImage* bios = nullptr;
    r = iso_image_set_boot_image(image, o.bios_boot.c_str(), ELTORITO_NO_EMUL, o.boot_catalog.c_str(), &bios);
    if (r < 0) return done(Error::Runtime(IsoError("BIOS boot image " + o.bios_boot, r)));
    el_torito_set_load_size(bios, 4);
    el_torito_set_isolinux_options(bios, 1 /* boot info table */, 0);
  }
  if (!o.efi_image.empty()) {
    ElToritoBootImage* efi = nullptr;
    if (o.bios_boot.empty()) {
      r = iso_image_set_boot_image(image, o.efi_image.c_str(), ELTORITO_NO_EMUL, o.boot_catalog.c_str(), &efi);
    } else {
      r = iso_image_add_boot_image(image, o.efi_image.c_str(), ELTORITO_NO_EMUL, 0, &efi);
    }
    if (r < 0) return done(Error::Runtime(IsoError("UEFI boot image " + o.efi_image, r)));
    el_torito_set_boot_platform_id(efi, 0xEF);
    // Mention the ESP in the isohybrid GPT as Basic Data, as xorriso's
    // -isohybrid-gpt-basdat does, so that UEFI firmware finds it on USB.
    if (!o.isohybrid_mbr.empty()) el_torito_set_isolinux_options(efi, 1 << 2, 0);
  }
  // libisofs stamps the boot catalog it creates with the current time.
  if (!o.bios_boot.empty() || !o.efi_image.empty()) {
    IsoNode* cat = nullptr;
    if (iso_tree_path_to_node(image, ("/" + o.boot_catalog).c_str(), &cat) == 1 && cat) {
      PinTimes(cat, static_cast<time_t>(o.source_date_epoch));
    }
  }
  IsoWriteOpts* opts = nullptr;
  r = iso_write_opts_new(&opts, 2);  // level 2 profile: Rock Ridge, full names
  if (r < 0) return done(Error::Runtime(IsoError("cannot create write options", r)));
  iso_write_opts_set_rockridge(opts, 1);
  iso_write_opts_set_joliet(opts, 1);
  iso_write_opts_set_iso_level(opts, 3);
  // RRIP 1.10: PX without a file serial number, which libisofs would take
  // from the staging files and so differ between builds.
  iso_write_opts_set_rrip_version_1_10(opts, 1);
  iso_write_opts_set_hardlinks(opts, 0);
  // Reproducible: fixed timestamps and volume UUID from SOURCE_DATE_EPOCH.
  time_t t = static_cast<time_t>(o.source_date_epoch);
  char uuid[32] = {0};
  struct tm tm {};
  gmtime_r(&t, &tm);
  std::strftime(uuid, sizeof uuid, "%Y%m%d%H%M%S00", &tm);  // 16 digits: YYYYMMDDhhmmsscc
  iso_write_opts_set_pvd_times(opts, t, t, 0, t, uuid);
  iso_write_opts_set_replace_timestamps(opts, 1);
  iso_write_opts_set_default_timestamp(opts, t);
  // Modes as staged; every owner root, whoever runs the build (the live
  // root's files must be root's on the target).
  iso_write_opts_set_replace_mode(opts, 0, 0, 2, 2);
  iso_write_opts_set_default_uid(opts, 0);
  iso_write_opts_set_default_gid(opts, 0);
  iso_write_opts_set_dir_rec_mtime(opts, 1);
  iso_write_opts_set_gpt_guid(opts, reinterpret_cast<uint8_t*>(const_cast<char*>("SLIPWAYGPTGUID00")), 1);
  if (!o.isohybrid_mbr.empty()) {
    auto mbr = ReadFile(o.isohybrid_mbr);
    if (!mbr) {
      iso_write_opts_free(opts);
      return done(std::move(mbr).error().Context("isohybrid MBR"));
    }
    std::vector<char> area(32768, 0);
    std::copy(mbr->begin(), mbr->begin() + std::min<size_t>(mbr->size(), 432), area.begin());
    r = iso_write_opts_set_system_area(opts, area.data(), 2 /* isohybrid MBR patching */, 0);
    if (r < 0) {
      iso_write_opts_free(opts);
      return done(Error::Runtime(IsoError("isohybrid system area", r)));
    }
  }
  burn_source* src = nullptr;
  r = iso_image_create_burn_source(image, opts, &src);
  iso_write_opts_free(opts);
  if (r < 0) return done(Error::Runtime(IsoError("cannot start writing the ISO", r)));
  std::string tmp = out + ".partial";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  Status st = Ok();
  if (fd < 0) st = Error::Errno("cannot create", tmp, errno);
  std::vector<unsigned char> buf(2048 * 32);
  // The final fsync must not find a gigabyte still to write: every 32 MiB,
  // start the writeback of what came before, so the disk works while
  // libisofs reads the next files.
  constexpr off_t kFlushEvery = 32 << 20;
  off_t written = 0, flushed = 0;
  while (st) {
    int n = src->read_xt(src, buf.data(), static_cast<int>(buf.size()));
    if (n < 0) {
      st = Error::Runtime("libisofs failed while writing " + out);
      break;
    }
    if (n == 0) break;
    if (::write(fd, buf.data(), static_cast<size_t>(n)) != n) st = Error::Errno("cannot write", tmp, errno);
    written += n;
    if (written - flushed >= kFlushEvery) {
      ::sync_file_range(fd, flushed, written - flushed, SYNC_FILE_RANGE_WRITE);
      flushed = written;
    }
  }
  src->free_data(src);
  free(src);
  if (fd >= 0) {
    if (st && ::fsync(fd) != 0) st = Error::Errno("cannot fsync", tmp, errno);
    ::close(fd);
  }
  std::error_code ec;
  if (st) std::filesystem::rename(tmp, out, ec);
  if (!st || ec) {
    std::filesystem::remove(tmp, ec);
    if (st) st = Error::Runtime("cannot rename " + tmp + " to " + out);
  }
  return done(st);
}

}  // namespace slipway::builder
