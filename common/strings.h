// Small string helpers shared by every room: edit distance for did-you-mean
// hints, DNS-1123 names, splitting, trimming and human-readable sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

/// Edit distance (optimal string alignment: insert, delete, substitute,
/// swap neighbours) between a and b, case-sensitive.
size_t EditDistance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a likely
/// typo (distance <= max(1, len/3)); otherwise nothing.
std::optional<std::string> DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" or "" — ready to append to a message.
std::string DidYouMeanSuffix(std::string_view word, const std::vector<std::string>& candidates);

/// RFC 1123 label as Kubernetes uses it: 1-63 chars of [a-z0-9-],
/// starting and ending with an alphanumeric.
bool IsDns1123Label(std::string_view name);

/// Why `name` is not a DNS-1123 label, or "" when it is.
std::string Dns1123Problem(std::string_view name);

std::string_view Trim(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
bool StartsWith(std::string_view s, std::string_view prefix);

/// "1.5 GiB", "512 MiB", "12 B": binary units, one decimal when useful.
std::string FormatBytes(uint64_t bytes);

/// `s` made safe to print: valid UTF-8 (non-ASCII included) is kept, every
/// byte that is not part of a valid UTF-8 sequence and every control
/// character becomes a `\xNN` escape (`\n`, `\t`, `\r` for those three).
/// The result is always valid UTF-8. With `keep_newlines`, '\n' stays as is
/// (for multi-line messages).
std::string SanitizeForDisplay(std::string_view s, bool keep_newlines = false);

/// Length of the valid UTF-8 sequence at the start of `s` (1-4), or 0 when
/// the first bytes are not one (overlong, surrogate, truncated, > U+10FFFF).
size_t Utf8SequenceLength(std::string_view s);

/// "'a', 'b' or 'c'".
std::string QuoteList(const std::vector<std::string>& items, std::string_view last_sep = " or ");

}  // namespace slipway
