// JSON text in and out with the guarantees every command needs: output is
// always valid JSON (invalid UTF-8 in a name or message becomes U+FFFD instead
// of an exception that aborts the command), and input is size-capped.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"

namespace slipway {

/// `j` as JSON text (`indent` as nlohmann's dump). Never throws on bad
/// UTF-8: each invalid byte is replaced by U+FFFD.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

/// The JSON pointer ("/vms/0/vcpus") of the first floating-point number in
/// `j`, or "" when there is none. Our formats hold only integers, and
/// nlohmann converts a float to an integer with a cast that is undefined when
/// it is out of range (1e300 as a size): readers refuse floats first.
std::string FirstFloat(const nlohmann::json& j);

/// Reads and parses the JSON file `path` (capped at kMaxJsonBytes). A syntax
/// error is an input error naming the file and the byte offset.
Result<nlohmann::json> LoadJsonFile(const std::string& path);

}  // namespace slipway
