// Strict TOML reading.
#include "common/toml_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/input_file.h"
#include "common/strings.h"

namespace slipway {

namespace {

std::string Describe(std::string_view where) { return where.empty() ? std::string() : " in " + std::string(where); }

std::string FormatNumber(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

}  // namespace

std::optional<SourcePos> TomlNestingProblem(std::string_view text, const std::string& display_path,
                                            std::string* message) {
  // A small lexer that knows only what it must: strings (4 kinds, so that a
  // bracket or dot inside one is not counted), comments, brackets, braces and
  // dots. Depth counts open [ and {; the dotted-key count restarts at every
  // token that cannot be inside a key.
  uint32_t line = 1, column = 0;
  size_t depth = 0, dots = 0;
  size_t i = 0;
  auto too_deep = [&](const std::string& what) {
    *message = "TOML nesting deeper than " + std::to_string(kMaxTomlDepth) + " levels (" + what +
               "); Slipway's files never nest this deep, so this file is not one of them";
    return SourcePos{display_path, line, column};
  };
  auto advance = [&](char c) {
    if (c == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
  };
  while (i < text.size()) {
    char c = text[i];
    advance(c);
    if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      bool triple = text.substr(i, 3) == std::string(3, c);
      std::string_view close = triple ? std::string_view(text.substr(i, 3)) : std::string_view(&text[i], 1);
      i += triple ? 3 : 1;
      while (i < text.size()) {
        if (c == '"' && text[i] == '\\' && i + 1 < text.size()) {
          advance(text[i]);
          advance(text[i + 1]);
          i += 2;
          continue;
        }
        if (text.substr(i, close.size()) == close) break;
        if (!triple && text[i] == '\n') break;  // a syntax error toml++ reports
        advance(text[i]);
        ++i;
      }
      i += close.size();
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > kMaxTomlDepth) return too_deep("arrays, inline tables or table headers");
      dots = 0;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
      dots = 0;
    } else if (c == '.') {
      if (++dots >= kMaxTomlDepth)
        return too_deep("a dotted key with more than " + std::to_string(kMaxTomlDepth) + " parts");
    } else if (c == '\n' || c == '=' || c == ',') {
      dots = 0;
    }
    ++i;
  }
  return std::nullopt;
}

std::optional<toml::table> ParseTomlText(std::string_view text, const std::string& display_path, Diagnostics* diags) {
  // toml++ recurses once per level of nesting and has no limit on dotted
  // keys, so a hostile file could overflow the stack: refuse it first.
  std::string message;
  if (auto pos = TomlNestingProblem(text, display_path, &message)) {
    diags->Error(*pos, message);
    return std::nullopt;
  }
  try {
    return toml::parse(text, std::string_view(display_path));
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    diags->Error({display_path, begin.line, begin.column}, "TOML syntax: " + std::string(e.description()));
    return std::nullopt;
  }
}

std::optional<toml::table> LoadTomlFile(const std::string& path, Diagnostics* diags) {
  auto text = ReadInputFile(path, kMaxTomlBytes);
  if (!text) {
    diags->Error({path, 0, 0}, text.error().message());
    return std::nullopt;
  }
  return ParseTomlText(*text, path, diags);
}

SourcePos PosOf(const toml::node& node, const std::string& file) {
  return {file, node.source().begin.line, node.source().begin.column};
}

std::string TomlTypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

TableReader::TableReader(const toml::table& table, std::string file, std::string where, Diagnostics* diags)
    : table_(table), file_(std::move(file)), where_(std::move(where)), diags_(diags) {}

SourcePos TableReader::TablePos() const { return PosOf(table_, file_); }

SourcePos TableReader::ValuePos(std::string_view key) const {
  const toml::node* node = table_.get(key);
  return node ? PosOf(*node, file_) : TablePos();
}

SourcePos TableReader::KeyPos(std::string_view key) const {
  auto it = table_.find(key);
  if (it == table_.end()) return TablePos();
  const auto& begin = it->first.source().begin;
  if (begin.line == 0) return ValuePos(key);
  return {file_, begin.line, begin.column};
}

void TableReader::ErrorAt(std::string_view key, std::string message) {
  diags_->Error(ValuePos(key), std::move(message));
}

void TableReader::Allow(std::string_view key) { known_.emplace(key); }

const toml::node* TableReader::Get(std::string_view key, Need need) {
  known_.emplace(key);
  const toml::node* node = table_.get(key);
  if (!node && need == Need::kRequired) missing_.emplace_back(key);
  return node;
}

void TableReader::TypeError(std::string_view key, const toml::node& node, std::string_view expected) {
  diags_->Error(PosOf(node, file_),
                "'" + std::string(key) + "' must be " + std::string(expected) + ", not " + TomlTypeName(node.type()));
}

std::optional<std::string> TableReader::String(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (!node) return std::nullopt;
  if (auto v = node->value<std::string>(); v && node->is_string()) return *v;
  TypeError(key, *node, "a string");
  return std::nullopt;
}

std::optional<int64_t> TableReader::Int(std::string_view key, Need need, int64_t min, int64_t max) {
  const toml::node* node = Get(key, need);
  if (!node) return std::nullopt;
  if (!node->is_integer()) {
    TypeError(key, *node, "an integer");
    return std::nullopt;
  }
  int64_t v = node->as_integer()->get();
  if (v < min || v > max) {
    diags_->Error(PosOf(*node, file_), "'" + std::string(key) + "' is " + std::to_string(v) + "; it must be from " +
                                           std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> TableReader::Number(std::string_view key, Need need, double min, double max) {
  const toml::node* node = Get(key, need);
  if (!node) return std::nullopt;
  double v = 0;
  if (node->is_integer()) {
    v = static_cast<double>(node->as_integer()->get());
  } else if (node->is_floating_point()) {
    v = node->as_floating_point()->get();
  } else {
    TypeError(key, *node, "a number");
    return std::nullopt;
  }
  if (!(v >= min && v <= max)) {
    diags_->Error(PosOf(*node, file_), "'" + std::string(key) + "' is " + FormatNumber(v) + "; it must be from " +
                                           FormatNumber(min) + " to " + FormatNumber(max));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> TableReader::Bool(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (!node) return std::nullopt;
  if (node->is_boolean()) return node->as_boolean()->get();
  TypeError(key, *node, "a boolean (true or false)");
  return std::nullopt;
}

std::optional<std::vector<std::string>> TableReader::StringArray(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (!node) return std::nullopt;
  const toml::array* arr = node->as_array();
  if (!arr) {
    TypeError(key, *node, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const toml::node& item : *arr) {
    if (!item.is_string()) {
      diags_->Error(PosOf(item, file_),
                    "items of '" + std::string(key) + "' must be strings, not " + TomlTypeName(item.type()));
      ok = false;
      continue;
    }
    out.push_back(item.as_string()->get());
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<int64_t>> TableReader::IntArray(std::string_view key, Need need, int64_t min, int64_t max) {
  const toml::node* node = Get(key, need);
  if (!node) return std::nullopt;
  const toml::array* arr = node->as_array();
  if (!arr) {
    TypeError(key, *node, "an array of integers");
    return std::nullopt;
  }
  std::vector<int64_t> out;
  bool ok = true;
  for (const toml::node& item : *arr) {
    if (!item.is_integer()) {
      diags_->Error(PosOf(item, file_),
                    "items of '" + std::string(key) + "' must be integers, not " + TomlTypeName(item.type()));
      ok = false;
      continue;
    }
    int64_t v = item.as_integer()->get();
    if (v < min || v > max) {
      diags_->Error(PosOf(item, file_), "item " + std::to_string(v) + " of '" + std::string(key) + "' must be from " +
                                            std::to_string(min) + " to " + std::to_string(max));
      ok = false;
      continue;
    }
    out.push_back(v);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> TableReader::Enum(std::string_view key, Need need, const std::vector<std::string>& allowed) {
  auto v = String(key, need);
  if (!v) return std::nullopt;
  for (const std::string& a : allowed) {
    if (a == *v) return v;
  }
  ErrorAt(key, "'" + std::string(key) + "' is '" + *v + "'; it must be " + QuoteList(allowed) +
                   DidYouMeanSuffix(*v, allowed));
  return std::nullopt;
}

std::optional<std::map<std::string, std::string>> TableReader::StringMap(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (!node) return std::nullopt;
  const toml::table* t = node->as_table();
  if (!t) {
    TypeError(key, *node, "a table of strings");
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool ok = true;
  for (const auto& [k, v] : *t) {
    if (!v.is_string()) {
      diags_->Error(PosOf(v, file_), "values of '" + std::string(key) + "' must be strings; '" + std::string(k.str()) +
                                         "' is " + TomlTypeName(v.type()));
      ok = false;
      continue;
    }
    out.emplace(std::string(k.str()), v.as_string()->get());
  }
  if (!ok) return std::nullopt;
  return out;
}

const toml::table* TableReader::Table(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  if (!node) return nullptr;
  if (const toml::table* t = node->as_table()) return t;
  TypeError(key, *node, "a table ([" + std::string(key) + "])");
  return nullptr;
}

std::vector<const toml::table*> TableReader::TableArray(std::string_view key, Need need) {
  const toml::node* node = Get(key, need);
  std::vector<const toml::table*> out;
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) {
    TypeError(key, *node, "an array of tables ([[" + std::string(key) + "]])");
    return out;
  }
  for (const toml::node& item : *arr) {
    if (const toml::table* t = item.as_table()) {
      out.push_back(t);
    } else {
      diags_->Error(PosOf(item, file_),
                    "items of '" + std::string(key) + "' must be tables, not " + TomlTypeName(item.type()));
    }
  }
  return out;
}

void TableReader::Finish() {
  std::vector<std::string> known(known_.begin(), known_.end());
  std::set<std::string> explained;
  for (const auto& [k, v] : table_) {
    std::string name(k.str());
    if (known_.count(name)) continue;
    auto hint = DidYouMean(name, known);
    if (hint && std::find(missing_.begin(), missing_.end(), *hint) != missing_.end()) explained.insert(*hint);
    std::string msg = "unknown key '" + name + "'";
    if (hint) {
      msg += " (did you mean '" + *hint + "'?)";
    } else {
      msg += Describe(where_) + " (allowed: " + Join(known, ", ") + ")";
    }
    diags_->Error(KeyPos(name), std::move(msg));
  }
  for (const std::string& key : missing_) {
    if (explained.count(key)) continue;
    diags_->Error(TablePos(), "missing required key '" + key + "'" + Describe(where_));
  }
  missing_.clear();
}

}  // namespace slipway
