// One escaper per output language. Every value that comes from a profile,
// an answer file or a plan and lands in a generated file goes through the
// escaper of that file's language, so that no value can end its literal and
// be read as code or structure. Each escaper has a round-trip test
// (tests/common/escape_test.cc) and a fuzz target (fuzz/escape_fuzz.cc).
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace slipway {

/// A YAML double-quoted scalar ("...") that a YAML 1.2 parser reads back as
/// exactly `s`. Quotes, backslashes, line breaks, NUL and every character
/// YAML does not allow raw are escaped (\", \\, \n, \0, \xNN, \uNNNN).
/// Valid UTF-8 is kept; a byte that is not valid UTF-8 cannot be a YAML
/// character and becomes U+FFFD.
std::string YamlQuote(std::string_view s);

/// A PowerShell single-quoted string ('...'), the form PowerShell never
/// expands ($, backticks and $() stay literal). Each of PowerShell's four
/// single-quote characters (' U+2018 U+2019 U+201A U+201B) is doubled, so
/// no value can end the literal, and a here-string is never needed.
std::string PowerShellQuote(std::string_view s);

/// A POSIX shell word: '...' with each ' written as '\''. A shell word cannot
/// hold a NUL byte: that is an input error.
Result<std::string> ShellQuote(std::string_view s);

/// A token for haproxy.cfg or keepalived.conf: returned as is when it is
/// only [A-Za-z0-9_.:/@+-] (and not empty), else double-quoted with \" and
/// \\ escaped. Both files are line-based and neither expands inside the
/// quotes that we emit ('$' is escaped as well for HAProxy's "$VAR"), so a
/// line break, CR, NUL or '#' could still end the line or start a comment:
/// line breaks and NUL are input errors.
Result<std::string> ConfigToken(std::string_view s);

/// A token for keepalived.conf: as is when plain ([A-Za-z0-9_.:/@+-]),
/// else double-quoted verbatim. keepalived reads a quoted string with no
/// escapes (a backslash stays a backslash) and substitutes $NAME, so '"',
/// '$', line breaks and NUL are input errors. (ConfigToken's \" and \$
/// are HAProxy's, and keepalived would read the backslashes.)
Result<std::string> KeepalivedToken(std::string_view s);

/// An INI value (cloudbase-init.conf and the like): kept as is, as INI has no
/// quoting, but a line break, NUL, a leading space or ';'/'#' that would
/// change what the parser reads are input errors.
Result<std::string> IniValue(std::string_view s);

}  // namespace slipway
