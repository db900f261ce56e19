// Hardware detection: reads a Sysroot and builds a HardwareReport. Pure
// reading; the only other input is the FsUsageSource seam for CSV sizes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "installer/detect/hardware_report.h"
#include "installer/detect/sysroot.h"

namespace slipway::installer {

struct FsUsage {
  uint64_t size_bytes = 0;
  uint64_t free_bytes = 0;  ///< available to unprivileged users (f_bavail)
};

/// Where CSV sizes come from. The real one calls statvfs(2) on the path
/// inside the sysroot; RecordedFsUsage replays numbers captured with a fixture.
class FsUsageSource {
 public:
  virtual ~FsUsageSource() = default;
  /// `path` is the in-sysroot path of the CSV.
  virtual Result<FsUsage> Usage(const Sysroot& sysroot, const std::string& path) const = 0;
};

class StatvfsUsage : public FsUsageSource {
 public:
  Result<FsUsage> Usage(const Sysroot& sysroot, const std::string& path) const override;
};

/// Replays {"<path>": {"size_bytes": N, "free_bytes": M}} from a JSON file
/// written by tests/fixtures/capture-sysroot.sh next to a captured tree.
class RecordedFsUsage : public FsUsageSource {
 public:
  static Result<std::unique_ptr<RecordedFsUsage>> Load(const std::string& json_file);
  Result<FsUsage> Usage(const Sysroot& sysroot, const std::string& path) const override;

 private:
  std::string file_;
  std::map<std::string, FsUsage> usage_;
};

/// The file systems that count as shared storage wherever they are mounted.
const std::vector<std::string>& SharedFsTypes();

struct DetectOptions {
  std::vector<std::string> extra_csvs;  ///< --csv PATH (in-sysroot paths)
};

/// Detects everything. Fails (exit 2) only on bad options, such as a --csv
/// path that does not exist; unreadable values become Probed::Unknown.
Result<HardwareReport> Detect(const Sysroot& sysroot, const FsUsageSource& usage, const DetectOptions& options);

/// Adds named CSV folders (from --csv or a profile) to a report.
Status AddNamedCsvs(const Sysroot& sysroot, const FsUsageSource& usage, const std::vector<std::string>& paths,
                    HardwareReport* report);

}  // namespace slipway::installer
