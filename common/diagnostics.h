// Located diagnostics for input files: "file:line:column: error: message",
// collected (never thrown) so that every mistake in a file is reported at once.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace slipway {

/// A place in a source file. line/column are 1-based; 0 means unknown.
struct SourcePos {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  SourcePos pos;
  Severity severity = Severity::kError;
  std::string message;
};

/// An ordered collection of diagnostics. Not thread-safe.
class Diagnostics {
 public:
  void Error(SourcePos pos, std::string message);
  void Warning(SourcePos pos, std::string message);

  bool HasErrors() const { return errors_ > 0; }
  size_t ErrorCount() const { return errors_; }
  size_t WarningCount() const { return items_.size() - errors_; }
  const std::vector<Diagnostic>& items() const { return items_; }
  /// Errors whose file is `file` (for per-file summaries).
  size_t ErrorCountFor(const std::string& file) const;

  /// Stable sort by file, line, column; keeps the order of equal positions.
  void Sort();
  void Append(const Diagnostics& other);

 private:
  std::vector<Diagnostic> items_;
  size_t errors_ = 0;
};

/// "file:line:column: error: message". Unknown parts are left out.
std::string FormatDiagnostic(const Diagnostic& d);

/// The formatted line, then (when the file can be read and line is known)
/// the offending source line and a caret under the column, as compilers do.
std::string RenderDiagnostic(const Diagnostic& d);

/// {"file","line","column","severity","message"}.
nlohmann::json DiagnosticToJson(const Diagnostic& d);

}  // namespace slipway
