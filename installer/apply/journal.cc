// Journal.
#include "installer/apply/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/input_file.h"
#include "common/json_text.h"
#include "common/strings.h"

namespace slipway::installer {

Result<Journal> Journal::Open(const std::string& state_dir) {
  ::mkdir(state_dir.c_str(), 0700);
  std::string path = state_dir + "/journal.jsonl";
  std::string text;
  if (::access(path.c_str(), F_OK) == 0) {
    auto r = ReadInputFile(path, kMaxJsonBytes);
    if (!r) return std::move(r).error();
    text = std::move(*r);
  }
  // Drop a torn tail: everything after the last newline.
  size_t keep = text.rfind('\n');
  keep = keep == std::string::npos ? 0 : keep + 1;
  if (keep != text.size() && ::truncate(path.c_str(), static_cast<off_t>(keep)) != 0) {
    return Error::Errno("cannot repair torn journal", path, errno);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Errno("cannot open journal", path, errno);
  Journal j(path, fd);
  size_t line_no = 0;
  for (const std::string& line : Split(std::string_view(text).substr(0, keep), '\n')) {
    ++line_no;
    if (line.empty()) continue;
    try {
      auto rec = nlohmann::json::parse(line);
      // A float seq (1e300) would be converted with undefined behaviour.
      if (!rec.is_object() || !rec.contains("seq") || !rec["seq"].is_number_unsigned()) {
        return Error::Runtime(path + ":" + std::to_string(line_no) +
                              ": corrupt journal record: 'seq' is not a non-negative integer; move the journal aside "
                              "to start a fresh one (libvirt state is re-read anyway)");
      }
      j.last_[rec.at("step").get<std::string>()] = rec.at("state").get<std::string>();
      j.seq_ = std::max(j.seq_, rec.at("seq").get<size_t>());
    } catch (const nlohmann::json::exception& e) {
      return Error::Runtime(path + ":" + std::to_string(line_no) + ": corrupt journal record: " + e.what() +
                            "; move it aside to start a fresh journal (libvirt state is re-read anyway)");
    }
  }
  if (const char* k = std::getenv("SLIPWAY_TEST_KILL_AFTER_RECORD")) j.kill_after_ = std::atol(k);
  return j;
}

Journal::Journal(Journal&& o) noexcept
    : path_(std::move(o.path_)),
      fd_(o.fd_),
      seq_(o.seq_),
      written_here_(o.written_here_),
      kill_after_(o.kill_after_),
      last_(std::move(o.last_)) {
  o.fd_ = -1;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::Record(const std::string& step, const std::string& state, const std::string& detail) {
  nlohmann::json rec = {{"seq", ++seq_}, {"step", step}, {"state", state}};
  if (!detail.empty()) rec["detail"] = detail;
  std::string line = DumpJson(rec) + "\n";
  if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return Error::Errno("cannot append to journal", path_, errno);
  }
  if (::fdatasync(fd_) != 0) return Error::Errno("cannot fsync journal", path_, errno);
  last_[step] = state;
  if (kill_after_ > 0 && static_cast<long>(++written_here_) == kill_after_) ::raise(SIGKILL);
  return Ok();
}

std::string Journal::LastState(const std::string& step) const {
  auto it = last_.find(step);
  return it == last_.end() ? "" : it->second;
}

}  // namespace slipway::installer
