// IPv4 addresses, CIDR blocks, address ranges and MAC addresses: parsing with
// reasons, containment and overlap. IPv6 is not supported yet (docs/profiles.md).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace slipway {

struct Ipv4 {
  uint32_t value = 0;
  std::string ToString() const;
  auto operator<=>(const Ipv4&) const = default;
};

/// An inclusive range of addresses [first, last].
struct IpRange {
  Ipv4 first;
  Ipv4 last;
  uint64_t Size() const { return uint64_t{last.value} - first.value + 1; }
  bool Contains(Ipv4 ip) const { return ip >= first && ip <= last; }
  bool Contains(const IpRange& r) const { return r.first >= first && r.last <= last; }
  bool Overlaps(const IpRange& r) const { return first <= r.last && r.first <= last; }
  std::string ToString() const;
};

struct Cidr {
  Ipv4 address;  ///< network address (host bits zero)
  int prefix = 0;
  IpRange Range() const;
  std::string ToString() const;
};

/// Parses dotted-quad "10.0.0.1". On failure returns nothing and sets *why.
std::optional<Ipv4> ParseIpv4(std::string_view s, std::string* why);
/// Parses "10.0.0.0/16"; host bits must be zero ("10.0.0.1/16" is refused with the fix).
std::optional<Cidr> ParseCidr(std::string_view s, std::string* why);
/// Parses "10.0.0.10-10.0.0.50" (inclusive), a single address, or a CIDR.
std::optional<IpRange> ParseIpRange(std::string_view s, std::string* why);
/// Parses "10.0.0.5/24" (interface address with prefix; host bits allowed).
std::optional<std::pair<Ipv4, int>> ParseIfaceAddress(std::string_view s, std::string* why);

using Mac = std::array<uint8_t, 6>;
/// Parses "52:54:00:ab:cd:ef" (':' or '-' separated, any case).
std::optional<Mac> ParseMac(std::string_view s, std::string* why);
/// Lower-case, colon separated.
std::string FormatMac(const Mac& mac);

/// How a cluster's VMs reach the network: a libvirt NAT network of their own
/// (labs, the demo), or the host's bridge on its uplink, so that node IPs and
/// VIPs live on the datacenter network (AKS hybrid's external switch).
enum class NetworkMode { kNat, kBridge };
NLOHMANN_JSON_SERIALIZE_ENUM(NetworkMode, {{NetworkMode::kNat, "nat"}, {NetworkMode::kBridge, "bridge"}})

/// A Linux network interface name: 1 to 15 bytes, no '/', ':' or whitespace.
inline bool IsInterfaceName(std::string_view name) {
  return !name.empty() && name.size() <= 15 && name.find_first_of("/: \t\n\r") == std::string_view::npos &&
         name != "." && name != "..";
}

/// The bridge `slipway bridge` and the installer make when none is named.
inline constexpr const char* kDefaultHostBridge = "slwbr0";

/// A VLAN on the host bridge is a tagged port "BRIDGE.N" (a VLAN interface
/// on the bridge) under a sub-bridge "BRIDGEvN", which the cluster's VMs
/// join: their frames leave the uplink tagged with N. Both names must be
/// interface names, so BRIDGE has at most 10 characters when a VLAN is used.
inline std::string VlanPortName(const std::string& bridge, int vlan) { return bridge + "." + std::to_string(vlan); }
inline std::string VlanBridgeName(const std::string& bridge, int vlan) { return bridge + "v" + std::to_string(vlan); }

}  // namespace slipway
