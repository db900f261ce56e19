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

/// "'a', 'b' or 'c'".
std::string QuoteList(const std::vector<std::string>& items, std::string_view last_sep = " or ");

}  // namespace slipway
