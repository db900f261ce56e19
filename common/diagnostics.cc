// Diagnostic collection and rendering.
#include "common/diagnostics.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace slipway {

void Diagnostics::Error(SourcePos pos, std::string message) {
  items_.push_back({std::move(pos), Severity::kError, std::move(message)});
  ++errors_;
}

void Diagnostics::Warning(SourcePos pos, std::string message) {
  items_.push_back({std::move(pos), Severity::kWarning, std::move(message)});
}

size_t Diagnostics::ErrorCountFor(const std::string& file) const {
  return static_cast<size_t>(std::count_if(items_.begin(), items_.end(), [&](const Diagnostic& d) {
    return d.severity == Severity::kError && d.pos.file == file;
  }));
}

void Diagnostics::Sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.pos.file != b.pos.file) return a.pos.file < b.pos.file;
    if (a.pos.line != b.pos.line) return a.pos.line < b.pos.line;
    return a.pos.column < b.pos.column;
  });
}

void Diagnostics::Append(const Diagnostics& other) {
  for (const Diagnostic& d : other.items_) {
    items_.push_back(d);
    if (d.severity == Severity::kError) ++errors_;
  }
}

std::string FormatDiagnostic(const Diagnostic& d) {
  // Appended piece by piece: `":" + std::to_string(n)` trips GCC 12's
  // -Wrestrict false positive at -O3 (GCC bug 105329), which -Werror turns
  // into a failed Release build.
  std::string out;
  if (!d.pos.file.empty()) {
    out += SanitizeForDisplay(d.pos.file);
    if (d.pos.line > 0) {
      out += ':';
      out += std::to_string(d.pos.line);
      if (d.pos.column > 0) {
        out += ':';
        out += std::to_string(d.pos.column);
      }
    }
    out += ": ";
  }
  out += d.severity == Severity::kError ? "error: " : "warning: ";
  out += SanitizeForDisplay(d.message);
  return out;
}

namespace {

// Returns line `n` (1-based) of `file`, or nothing when it cannot be read.
bool ReadLine(const std::string& file, uint32_t n, std::string* line) {
  std::ifstream in(file);
  if (!in) return false;
  for (uint32_t i = 1; std::getline(in, *line); ++i) {
    if (i == n) return true;
  }
  return false;
}

}  // namespace

std::string RenderDiagnostic(const Diagnostic& d) {
  std::string out = FormatDiagnostic(d);
  std::string line;
  if (d.pos.line > 0 && ReadLine(d.pos.file, d.pos.line, &line)) {
    std::replace(line.begin(), line.end(), '\t', ' ');
    out += "\n    ";
    out += SanitizeForDisplay(line);
    out += "\n    ";
    if (d.pos.column > 0) out += std::string(d.pos.column - 1, ' ');
    out += "^";
  }
  return out;
}

nlohmann::json DiagnosticToJson(const Diagnostic& d) {
  // Sanitised, so that a byte of a broken UTF-8 sequence in a message can
  // never make the JSON output invalid.
  return nlohmann::json{{"file", SanitizeForDisplay(d.pos.file)},
                        {"line", d.pos.line},
                        {"column", d.pos.column},
                        {"severity", d.severity == Severity::kError ? "error" : "warning"},
                        {"message", SanitizeForDisplay(d.message)}};
}

}  // namespace slipway
