// Command-line parsing.
#include "common/args.h"

#include <filesystem>

#include "common/strings.h"

namespace slipway {

Result<Args> Args::Parse(std::span<char* const> argv, const std::vector<FlagSpec>& specs) {
  Args args;
  bool only_positionals = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (only_positionals || arg.size() < 2 || arg.substr(0, 2) != "--") {
      if (arg == "-h") return Error::Input("use --help");
      if (!only_positionals && arg.size() > 1 && arg[0] == '-') {
        return Error::Input("unknown option '" + arg + "' (options are spelt --name)");
      }
      args.positionals_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    std::vector<std::string> names;
    for (const FlagSpec& s : specs) {
      names.push_back(s.name);
      if (s.name == name) spec = &s;
    }
    if (!spec) {
      std::vector<std::string> dashed;
      for (const std::string& n : names) dashed.push_back("--" + n);
      return Error::Input("unknown option '--" + name + "'" + DidYouMeanSuffix("--" + name, dashed));
    }
    if (spec->takes_value && !value) {
      if (i + 1 >= argv.size()) return Error::Input("option '--" + name + "' needs a value");
      value = argv[++i];
    }
    if (!spec->takes_value && value) return Error::Input("option '--" + name + "' takes no value");
    auto& slot = args.values_[name];
    if (!slot.empty() && !spec->repeatable) return Error::Input("option '--" + name + "' is given twice");
    slot.push_back(value.value_or(""));
  }
  return args;
}

std::string Args::Get(std::string_view flag, std::string fallback) const {
  auto it = values_.find(std::string(flag));
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> Args::GetAll(std::string_view flag) const {
  auto it = values_.find(std::string(flag));
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

std::string DataDir() {
  if (const char* env = std::getenv("SLIPWAY_DATA"); env && *env) return env;
#ifdef SLIPWAY_SOURCE_DIR
  if (std::filesystem::exists(SLIPWAY_SOURCE_DIR "/profiles")) return SLIPWAY_SOURCE_DIR;
#endif
  return "/usr/share/slipway";
}

}  // namespace slipway
