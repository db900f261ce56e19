// Helpers shared by tests: temporary folders and running the real CLI binary.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "installer/apply/seed_iso.h"

namespace slipway::testing {

/// A fresh folder under $TMPDIR, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "slipway-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void WriteText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs a shell command line, capturing stdout and stderr separately.
inline RunResult Run(const std::string& command) {
  TempDir dir;
  std::string full = "(" + command + ") >" + dir / "out" + " 2>" + dir / "err";
  int status = std::system(full.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadText(dir / "out");
  r.err = ReadText(dir / "err");
  return r;
}

/// Every regular file of an ISO9660 image, read back with libarchive (the
/// product's reader): path -> content. Empty when the image cannot be read.
inline std::map<std::string, std::string> ReadIsoFiles(const std::string& iso) {
  std::map<std::string, std::string> files;
  if (auto r = installer::ReadIsoFiles(iso)) {
    for (auto& [name, body] : *r) files[name] = std::move(body);
  }
  return files;
}

/// `text` with every @NAME@ placeholder of `subs` replaced by its value
/// (a test's shell script, filled with its paths and parameters).
inline std::string FillTemplate(std::string text, const std::vector<std::pair<std::string, std::string>>& subs) {
  for (const auto& [from, to] : subs) {
    for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
      text.replace(at, from.size(), to);
  }
  return text;
}

inline std::string Slipway() { return SLIPWAY_BINARY; }
inline std::string SourceDir() { return SLIPWAY_SOURCE_DIR; }
inline std::string Fixtures() { return SLIPWAY_FIXTURES; }

}  // namespace slipway::testing
