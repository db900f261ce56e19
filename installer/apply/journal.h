// The executor's journal: an append-only file of JSON lines, each fsynced
// before the call it announces ("begin") and after it ("done"). A torn last
// line (a crash mid-write) is dropped when the journal is opened.
#pragma once

#include <map>
#include <string>

#include "common/error.h"

namespace slipway::installer {

class Journal {
 public:
  /// Opens (creating) `state_dir`/journal.jsonl and replays it.
  static Result<Journal> Open(const std::string& state_dir);
  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) = delete;
  ~Journal();

  /// Appends {"seq","step","state","detail"} and fsyncs it.
  /// Test hook: with SLIPWAY_TEST_KILL_AFTER_RECORD=K in the environment, the
  /// process SIGKILLs itself right after its K-th record is durable.
  Status Record(const std::string& step, const std::string& state, const std::string& detail = "");

  /// The last state recorded for `step` ("" when never seen).
  std::string LastState(const std::string& step) const;
  size_t size() const { return seq_; }
  const std::string& path() const { return path_; }

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
  size_t seq_ = 0;
  size_t written_here_ = 0;
  long kill_after_ = -1;
  std::map<std::string, std::string> last_;
};

}  // namespace slipway::installer
