// IPv4 and MAC parsing.
#include "common/net.h"

#include <charconv>
#include <cstdio>

#include "common/strings.h"

namespace slipway {

std::string Ipv4::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", value >> 24, (value >> 16) & 255, (value >> 8) & 255, value & 255);
  return buf;
}

std::string IpRange::ToString() const { return first.ToString() + "-" + last.ToString(); }

IpRange Cidr::Range() const {
  uint32_t host_mask = prefix == 0 ? 0xffffffffu : (prefix == 32 ? 0u : (0xffffffffu >> prefix));
  return {address, Ipv4{address.value | host_mask}};
}

std::string Cidr::ToString() const { return address.ToString() + "/" + std::to_string(prefix); }

std::optional<Ipv4> ParseIpv4(std::string_view s, std::string* why) {
  auto parts = Split(s, '.');
  if (parts.size() != 4) {
    *why = "'" + std::string(s) + "' is not an IPv4 address (expected four numbers like 10.0.0.1)";
    return std::nullopt;
  }
  uint32_t value = 0;
  for (const std::string& p : parts) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), n);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || n > 255 || (p.size() > 1 && p[0] == '0')) {
      *why = "'" + std::string(s) + "' is not an IPv4 address ('" + p + "' is not a number from 0 to 255)";
      return std::nullopt;
    }
    value = (value << 8) | n;
  }
  return Ipv4{value};
}

namespace {

std::optional<std::pair<Ipv4, int>> ParseAddressAndPrefix(std::string_view s, std::string* why) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) {
    *why = "'" + std::string(s) + "' has no prefix length (expected a CIDR like 10.0.0.0/24)";
    return std::nullopt;
  }
  auto ip = ParseIpv4(s.substr(0, slash), why);
  if (!ip) return std::nullopt;
  std::string_view p = s.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix < 0 || prefix > 32) {
    *why = "'" + std::string(s) + "' has an invalid prefix length (expected 0 to 32)";
    return std::nullopt;
  }
  return std::make_pair(*ip, prefix);
}

}  // namespace

std::optional<Cidr> ParseCidr(std::string_view s, std::string* why) {
  auto parsed = ParseAddressAndPrefix(s, why);
  if (!parsed) return std::nullopt;
  Cidr c{parsed->first, parsed->second};
  uint32_t network_mask = c.prefix == 0 ? 0u : (0xffffffffu << (32 - c.prefix));
  uint32_t network = parsed->first.value & network_mask;
  if (network != parsed->first.value) {
    Cidr fixed{Ipv4{network}, c.prefix};
    *why = "'" + std::string(s) + "' has host bits set (did you mean '" + fixed.ToString() + "'?)";
    return std::nullopt;
  }
  return c;
}

std::optional<std::pair<Ipv4, int>> ParseIfaceAddress(std::string_view s, std::string* why) {
  return ParseAddressAndPrefix(s, why);
}

std::optional<IpRange> ParseIpRange(std::string_view s, std::string* why) {
  if (s.find('/') != std::string_view::npos) {
    auto c = ParseCidr(s, why);
    if (!c) return std::nullopt;
    return c->Range();
  }
  size_t dash = s.find('-');
  if (dash == std::string_view::npos) {
    auto ip = ParseIpv4(s, why);
    if (!ip) return std::nullopt;
    return IpRange{*ip, *ip};
  }
  auto first = ParseIpv4(Trim(s.substr(0, dash)), why);
  if (!first) return std::nullopt;
  auto last = ParseIpv4(Trim(s.substr(dash + 1)), why);
  if (!last) return std::nullopt;
  if (*last < *first) {
    *why = "range '" + std::string(s) + "' ends before it starts";
    return std::nullopt;
  }
  return IpRange{*first, *last};
}

std::optional<Mac> ParseMac(std::string_view s, std::string* why) {
  Mac mac{};
  auto bad = [&] {
    *why = "'" + std::string(s) + "' is not a MAC address (expected six hex pairs like 52:54:00:12:34:56)";
    return std::nullopt;
  };
  if (s.size() != 17) return bad();
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && s[i * 3 - 1] != ':' && s[i * 3 - 1] != '-') return bad();
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data() + i * 3, s.data() + i * 3 + 2, v, 16);
    if (ec != std::errc() || end != s.data() + i * 3 + 2) return bad();
    mac[i] = static_cast<uint8_t>(v);
  }
  return mac;
}

std::string FormatMac(const Mac& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return buf;
}

}  // namespace slipway
