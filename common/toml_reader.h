// Strict TOML reading on top of toml++: every key a schema reads is marked
// known; Finish() reports the rest as unknown with a did-you-mean. Wrong types
// and out-of-range values become located diagnostics, never exceptions, so a
// file with three mistakes yields three errors.
#pragma once

#include <toml++/toml.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/diagnostics.h"

namespace slipway {

/// Parses `path`. A syntax error becomes one located diagnostic; an
/// unreadable file becomes a diagnostic naming the OS reason.
std::optional<toml::table> LoadTomlFile(const std::string& path, Diagnostics* diags);

/// How deep TOML may nest (arrays, inline tables, table headers, dotted-key
/// parts); checked before toml++ sees the text.
inline constexpr size_t kMaxTomlDepth = 32;

/// The place and a message when `text` nests deeper than kMaxTomlDepth.
std::optional<SourcePos> TomlNestingProblem(std::string_view text, const std::string& display_path,
                                            std::string* message);

/// Parses TOML text as if it came from `display_path` (for tests).
std::optional<toml::table> ParseTomlText(std::string_view text, const std::string& display_path, Diagnostics* diags);

/// Position of a toml++ node in `file`.
SourcePos PosOf(const toml::node& node, const std::string& file);

/// "string", "integer", ... as a person says it.
std::string TomlTypeName(toml::node_type type);

enum class Need { kOptional, kRequired };

/// Reads one TOML table against a schema. Holds references: the table and
/// the Diagnostics must outlive the reader. Call Finish() once at the end.
class TableReader {
 public:
  /// `where` names the table in messages: "" for the root, "[network]",
  /// "[[node_pool]] 'linux'".
  TableReader(const toml::table& table, std::string file, std::string where, Diagnostics* diags);

  std::optional<std::string> String(std::string_view key, Need need);
  /// Integer in [min, max].
  std::optional<int64_t> Int(std::string_view key, Need need, int64_t min, int64_t max);
  /// Integer or float in [min, max].
  std::optional<double> Number(std::string_view key, Need need, double min, double max);
  std::optional<bool> Bool(std::string_view key, Need need);
  std::optional<std::vector<std::string>> StringArray(std::string_view key, Need need);
  std::optional<std::vector<int64_t>> IntArray(std::string_view key, Need need, int64_t min, int64_t max);
  /// A string that must be one of `allowed`.
  std::optional<std::string> Enum(std::string_view key, Need need, const std::vector<std::string>& allowed);
  /// An inline or standard table whose values are all strings (e.g. labels).
  std::optional<std::map<std::string, std::string>> StringMap(std::string_view key, Need need);
  /// A sub-table ([key] or key = {...}); null when absent or of the wrong type.
  const toml::table* Table(std::string_view key, Need need);
  /// An array of tables ([[key]]); empty when absent or of the wrong type.
  std::vector<const toml::table*> TableArray(std::string_view key, Need need);

  /// Marks a key as known without reading it.
  void Allow(std::string_view key);
  bool Has(std::string_view key) const { return table_.contains(key); }

  /// Position of the value of `key`, or of the table when absent.
  SourcePos ValuePos(std::string_view key) const;
  /// Position of the key itself (its name), or of the table when absent.
  SourcePos KeyPos(std::string_view key) const;
  SourcePos TablePos() const;

  /// Reports a located error at the value of `key`.
  void ErrorAt(std::string_view key, std::string message);

  /// Reports every key that no accessor asked for, and every missing
  /// required key. A misspelt required key ('sise' for 'size') is reported
  /// once, as unknown with a did-you-mean, not also as missing.
  void Finish();

  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }
  Diagnostics* diags() const { return diags_; }

 private:
  const toml::node* Get(std::string_view key, Need need);
  void TypeError(std::string_view key, const toml::node& node, std::string_view expected);

  const toml::table& table_;
  std::string file_;
  std::string where_;
  Diagnostics* diags_;
  std::set<std::string, std::less<>> known_;
  std::vector<std::string> missing_;
};

}  // namespace slipway
