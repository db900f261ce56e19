// Escapers: YAML, PowerShell, POSIX shell, HAProxy/keepalived, INI.
#include "common/escape.h"

#include <cstdio>

#include "common/strings.h"

namespace slipway {

namespace {

// Decodes the UTF-8 sequence of `len` bytes at the start of `s`.
char32_t Decode(std::string_view s, size_t len) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  if (len == 1) return b(0);
  if (len == 2) return ((b(0) & 0x1Fu) << 6) | (b(1) & 0x3Fu);
  if (len == 3) return ((b(0) & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
  return ((b(0) & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
}

// YAML 1.2 c-printable, minus what a double-quoted scalar must escape.
bool YamlRaw(char32_t c) {
  if (c == '"' || c == '\\') return false;
  if (c >= 0x20 && c <= 0x7E) return true;
  if (c == 0x85 || c < 0xA0) return false;       // C0 and C1 controls, NEL
  if (c == 0x2028 || c == 0x2029) return false;  // line and paragraph separators
  if (c == 0xFEFF) return false;                 // byte order mark
  if (c >= 0xD800 && c <= 0xDFFF) return false;
  if (c == 0xFFFE || c == 0xFFFF) return false;
  return c <= 0x10FFFF;
}

std::string Hex(const char* format, unsigned value) {
  char buf[16];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

bool IsPowerShellQuote(char32_t c) { return c == '\'' || c == 0x2018 || c == 0x2019 || c == 0x201A || c == 0x201B; }

}  // namespace

std::string YamlQuote(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    size_t len = Utf8SequenceLength(s.substr(i));
    if (len == 0) {
      out += "\\uFFFD";
      ++i;
      continue;
    }
    char32_t c = Decode(s.substr(i), len);
    if (YamlRaw(c)) {
      out.append(s.substr(i, len));
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == 0) {
      out += "\\0";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c <= 0xFF) {
      out += Hex("\\x%02X", static_cast<unsigned>(c));
    } else if (c <= 0xFFFF) {
      out += Hex("\\u%04X", static_cast<unsigned>(c));
    } else {
      out += Hex("\\U%08X", static_cast<unsigned>(c));
    }
    i += len;
  }
  return out + "\"";
}

std::string PowerShellQuote(std::string_view s) {
  std::string out = "'";
  size_t i = 0;
  while (i < s.size()) {
    size_t len = Utf8SequenceLength(s.substr(i));
    if (len == 0) len = 1;  // not UTF-8: a plain byte, cannot be a quote
    std::string_view ch = s.substr(i, len);
    out.append(ch);
    // PowerShell reads any two single-quote characters in a row as one
    // literal quote (the second), so doubling each keeps the literal open.
    if (len > 0 && IsPowerShellQuote(Decode(ch, ch.size()))) out.append(ch);
    i += len;
  }
  return out + "'";
}

Result<std::string> ShellQuote(std::string_view s) {
  if (s.find('\0') != std::string_view::npos) {
    return Error::Input("a shell word cannot hold a NUL byte: '" + SanitizeForDisplay(s) + "'");
  }
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

namespace {

// A token that haproxy.cfg and keepalived.conf read as is: [A-Za-z0-9_.:/@+-]+.
bool IsPlainToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == ':' || c == '/' || c == '@' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<std::string> ConfigToken(std::string_view s) {
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\0') {
      return Error::Input("a configuration token cannot hold a line break or NUL: '" + SanitizeForDisplay(s) + "'");
    }
  }
  if (IsPlainToken(s)) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$') out += '\\';
    out += c;
  }
  return out + "\"";
}

Result<std::string> KeepalivedToken(std::string_view s) {
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\0' || c == '"' || c == '$') {
      return Error::Input(
          "a keepalived.conf value cannot hold a line break, NUL, '\"' or '$' (keepalived has no "
          "escapes inside quotes, and expands $NAME): '" +
          SanitizeForDisplay(s) + "'");
    }
  }
  if (IsPlainToken(s)) return std::string(s);
  return "\"" + std::string(s) + "\"";  // read verbatim, blanks, '#', '!' and '\\' included
}

Result<std::string> IniValue(std::string_view s) {
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\0') {
      return Error::Input("an INI value cannot hold a line break or NUL: '" + SanitizeForDisplay(s) + "'");
    }
  }
  if (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.back() == ' ' || s.back() == '\t')) {
    return Error::Input("an INI value cannot begin or end with a blank (the parser strips it): '" +
                        SanitizeForDisplay(s) + "'");
  }
  if (!s.empty() && (s.front() == ';' || s.front() == '#' || s.front() == '[')) {
    return Error::Input("an INI value cannot begin with ';', '#' or '[': '" + SanitizeForDisplay(s) + "'");
  }
  return std::string(s);
}

}  // namespace slipway
