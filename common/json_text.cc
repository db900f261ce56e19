// Safe JSON dump and bounded JSON load.
#include "common/json_text.h"

#include "common/input_file.h"

namespace slipway {

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

std::string EscapePointerToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string FirstFloat(const nlohmann::json& j) {
  if (j.is_number_float()) return "/";
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string inner = FirstFloat(it.value());
      if (!inner.empty()) return "/" + EscapePointerToken(it.key()) + (inner == "/" ? "" : inner);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      std::string inner = FirstFloat(j[i]);
      if (!inner.empty()) return "/" + std::to_string(i) + (inner == "/" ? "" : inner);
    }
  }
  return "";
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
