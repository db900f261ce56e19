// Fuzz target: the escapers' round trip. For any bytes: YamlQuote reads back
// through yaml-cpp as the input (valid UTF-8) or as the input with U+FFFD for
// bad bytes; PowerShellQuote's literal ends exactly at its last quote and
// decodes to the input; ShellQuote and ConfigToken decode to the input by
// their languages' quoting rules, or refuse it as an input error.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/escape.h"
#include "common/strings.h"

using namespace slipway;

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s.substr(i));
    if (!n) return false;
    i += n;
  }
  return true;
}

size_t PsQuote(const std::string& t, size_t i) {
  if (i >= t.size()) return 0;
  if (t[i] == '\'') return 1;
  if (t.compare(i, 2, "\xE2\x80") == 0 && i + 2 < t.size()) {
    unsigned char c = static_cast<unsigned char>(t[i + 2]);
    if (c >= 0x98 && c <= 0x9B) return 3;
  }
  return 0;
}

// PowerShell's single-quoted literal starting at t[0]: value, end index.
std::pair<std::string, size_t> ReadPs(const std::string& t) {
  std::string v;
  size_t i = 1;
  while (i < t.size()) {
    if (size_t q = PsQuote(t, i)) {
      size_t q2 = PsQuote(t, i + q);
      if (!q2) return {v, i + q};
      v += t.substr(i + q, q2);
      i += q + q2;
      continue;
    }
    v += t[i++];
  }
  return {v, std::string::npos};
}

// A POSIX shell word made only of '...' parts and \' escapes.
std::string ReadShell(const std::string& t) {
  std::string v;
  size_t i = 0;
  while (i < t.size()) {
    if (t[i] == '\'') {
      size_t close = t.find('\'', i + 1);
      Check(close != std::string::npos);
      v += t.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      Check(t[i] == '\\' && i + 1 < t.size());
      v += t[i + 1];
      i += 2;
    }
  }
  return v;
}

std::string ReadToken(const std::string& t) {
  if (t.empty() || t[0] != '"') return t;
  Check(t.size() >= 2 && t.back() == '"');
  std::string v;
  for (size_t i = 1; i + 1 < t.size(); ++i) {
    if (t[i] == '\\')
      ++i;
    else
      Check(t[i] != '"' && t[i] != '$');
    v += t[i];
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);

  std::string y = YamlQuote(s);
  Check(y.find('\n') == std::string::npos && ValidUtf8(y));
  std::string back = YAML::Load("v: " + y)["v"].as<std::string>();
  if (ValidUtf8(s)) Check(back == s);

  std::string ps = PowerShellQuote(s);
  auto [value, end] = ReadPs(ps + " | Out-Null");
  Check(end == ps.size() && value == s);

  if (auto sh = ShellQuote(s)) {
    Check(ReadShell(*sh) == s);
  } else {
    Check(s.find('\0') != std::string::npos);
  }

  if (auto tok = ConfigToken(s)) {
    Check(ReadToken(*tok) == s);
  } else {
    Check(s.find_first_of(std::string("\n\r\0", 3)) != std::string::npos);
  }

  // keepalived reads a quoted string verbatim (tests/integration/
  // config_token_test.cc shows it with the real keepalived).
  if (auto tok = KeepalivedToken(s)) {
    bool quoted = tok->size() >= 2 && tok->front() == '"' && tok->back() == '"' && *tok != s;
    Check((quoted ? tok->substr(1, tok->size() - 2) : *tok) == s);
    Check(tok->find_first_of(std::string("\n\r\0$", 4)) == std::string::npos);
  } else {
    Check(s.find_first_of(std::string("\n\r\0\"$", 5)) != std::string::npos);
  }
  return 0;
}
