// Staging for the ISO writer.
#include "builder/staging.h"

#include <filesystem>

namespace slipway::builder {

namespace fs = std::filesystem;

Status StageFile(const std::string& src, const std::string& dst) {
  std::error_code ec;
  if (!fs::exists(src, ec)) return Error::Input("cannot stage " + src + ": it does not exist");
  fs::create_directories(fs::path(dst).parent_path(), ec);
  fs::copy(src, dst, fs::copy_options::recursive | fs::copy_options::create_hard_links, ec);
  if (ec) {
    ec.clear();
    fs::remove_all(dst, ec);
    fs::copy(src, dst, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  }
  if (ec) return Error::Runtime("cannot stage " + src + ": " + ec.message());
  return Ok();
}

}  // namespace slipway::builder
