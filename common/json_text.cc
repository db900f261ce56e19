// Safe JSON dump and bounded JSON load.
#include "common/json_text.h"

#include "common/input_file.h"

namespace slipway {

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<nlohmann::json> LoadJsonFile(const std::string& path) {
  auto text = ReadInputFile(path, kMaxJsonBytes);
  if (!text) return std::move(text).error();
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {
    return Error::Input(path + ": not valid JSON: " + e.what());
  }
}

}  // namespace slipway
