// A small command-line parser for subcommands: --flag, --flag VALUE,
// --flag=VALUE, repeatable flags and positionals. Unknown flags are usage
// errors with a did-you-mean.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway {

struct FlagSpec {
  std::string name;  ///< without dashes: "json", "sysroot"
  bool takes_value = false;
  bool repeatable = false;
};

class Args {
 public:
  /// Parses argv (without the program and subcommand names).
  static Result<Args> Parse(std::span<char* const> argv, const std::vector<FlagSpec>& specs);

  bool Has(std::string_view flag) const { return values_.count(std::string(flag)) > 0; }
  /// Last value of a flag, or `fallback`.
  std::string Get(std::string_view flag, std::string fallback = "") const;
  std::vector<std::string> GetAll(std::string_view flag) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

/// Where bundled data (profiles/, images/, firmware/) lives: $SLIPWAY_DATA,
/// else the source tree this binary was built from, else /usr/share/slipway.
std::string DataDir();

}  // namespace slipway
