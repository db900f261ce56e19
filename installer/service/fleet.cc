// Reading and validating fleet answer files (profiles/fleet/*.toml): defaults
// plus [[host]] entries matched by MAC, SMBIOS serial or SMBIOS UUID.
#include <algorithm>
#include <set>

#include "common/strings.h"
#include "installer/model/profiles.h"

namespace slipway::installer {

namespace {

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Public keys only: a private key pasted by mistake is refused without
// echoing it (it is a secret).
void ReadSshKeys(TableReader& r, FleetHost* h) {
  auto keys = r.StringArray("ssh_authorized_keys", Need::kOptional);
  if (!keys) return;
  static const char* kTypes[] = {"ssh-ed25519 ",
                                 "ssh-rsa ",
                                 "ecdsa-sha2-nistp256 ",
                                 "ecdsa-sha2-nistp384 ",
                                 "ecdsa-sha2-nistp521 ",
                                 "sk-ssh-ed25519@openssh.com ",
                                 "sk-ecdsa-sha2-nistp256@openssh.com "};
  for (size_t i = 0; i < keys->size(); ++i) {
    const std::string& k = (*keys)[i];
    if (k.find("PRIVATE KEY") != std::string::npos) {
      r.ErrorAt("ssh_authorized_keys", "item " + std::to_string(i + 1) +
                                           " of 'ssh_authorized_keys' is a PRIVATE key; put the public key (.pub) "
                                           "here and keep the private key off the answer file");
      continue;
    }
    bool ok = std::any_of(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return StartsWith(k, t); });
    if (!ok) {
      r.ErrorAt("ssh_authorized_keys", "item " + std::to_string(i + 1) +
                                           " of 'ssh_authorized_keys' is not an OpenSSH public key (expected "
                                           "'ssh-ed25519 AAAA...' or 'ssh-rsa AAAA...')");
      continue;
    }
    h->ssh_authorized_keys.push_back(k);
  }
}

void ReadIpList(TableReader& r, std::string_view key, std::vector<Ipv4>* out) {
  auto list = r.StringArray(key, Need::kOptional);
  if (!list) return;
  for (const std::string& s : *list) {
    std::string why;
    if (auto ip = ParseIpv4(s, &why)) {
      out->push_back(*ip);
    } else {
      r.ErrorAt(key, "'" + std::string(key) + "': " + why);
    }
  }
}

void ReadHostNetwork(const toml::table& t, const std::string& file, bool defaults, FleetHost* h, Diagnostics* diags) {
  TableReader r(t, file, defaults ? "[defaults.network]" : "[host.network]", diags);
  if (!defaults) {
    if (auto s = r.String("address", Need::kOptional)) {
      std::string why;
      h->network.address = ParseIfaceAddress(*s, &why);
      if (!h->network.address) r.ErrorAt("address", "'address': " + why);
      h->positions["network.address"] = r.ValuePos("address");
    }
    if (auto s = r.String("vip", Need::kOptional)) {
      std::string why;
      h->network.vip = ParseIpv4(*s, &why);
      if (!h->network.vip) r.ErrorAt("vip", "'vip': " + why);
      h->positions["network.vip"] = r.ValuePos("vip");
    }
  } else {
    for (const char* k : {"address", "vip"}) {
      if (r.Has(k)) {
        r.Allow(k);
        r.ErrorAt(k, std::string("'") + k + "' belongs to one host; move it into that [[host]] entry");
      }
    }
  }
  if (auto s = r.String("gateway", Need::kOptional)) {
    std::string why;
    h->network.gateway = ParseIpv4(*s, &why);
    if (!h->network.gateway) r.ErrorAt("gateway", "'gateway': " + why);
  }
  ReadIpList(r, "dns", &h->network.dns);
  if (auto s = r.String("mode", Need::kOptional)) {
    if (*s == "bridge" || *s == "nat") {
      h->network.mode = *s == "bridge" ? NetworkMode::kBridge : NetworkMode::kNat;
      h->positions["network.mode"] = r.ValuePos("mode");
    } else {
      r.ErrorAt("mode",
                "'mode' must be \"bridge\" (the host bridge on the uplink NIC) or \"nat\" (a libvirt NAT "
                "network), not '" +
                    *s + "'");
    }
  }
  if (auto s = r.String("uplink", Need::kOptional)) {
    std::string why;
    if (IsInterfaceName(*s) || ParseMac(*s, &why)) {
      h->network.uplink = *s;
    } else {
      r.ErrorAt("uplink",
                "'uplink' names a NIC by its interface name (1 to 15 characters, no '/', ':' or spaces) "
                "or its MAC address; '" +
                    *s + "' is neither");
    }
  }
  if (auto s = r.String("bridge", Need::kOptional)) {
    if (IsInterfaceName(*s)) {
      h->network.bridge = *s;
    } else {
      r.ErrorAt("bridge", "'bridge' must be an interface name of 1 to 15 characters, no '/', ':' or spaces");
    }
  }
  r.Finish();
}

// A host's own address, its gateway (or the defaults') and its VIP: inside
// one subnet, distinct, and never the subnet's network or broadcast address.
void CheckHostAddresses(const FleetHost& h, const FleetHost& defaults, Diagnostics* diags) {
  if (!h.network.address) return;
  // Not a structured binding: clang 14 cannot capture one in a lambda.
  const Ipv4 ip = h.network.address->first;
  const int prefix = h.network.address->second;
  auto pos = [&](const char* key) { return h.positions.count(key) ? h.positions.at(key) : h.pos; };
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  IpRange subnet{Ipv4{ip.value & mask}, Ipv4{(ip.value & mask) | ~mask}};
  std::string net = subnet.first.ToString() + "/" + std::to_string(prefix);
  auto reserved = [&](Ipv4 a) { return prefix <= 30 && (a == subnet.first || a == subnet.last); };
  if (reserved(ip)) {
    diags->Error(pos("network.address"),
                 "host '" + h.name + "' address " + ip.ToString() + " is the network or broadcast address of " + net);
  }
  std::optional<Ipv4> gw = h.network.gateway ? h.network.gateway : defaults.network.gateway;
  if (gw) {
    if (!subnet.Contains(*gw)) {
      diags->Error(pos("network.address"),
                   "host '" + h.name + "' gateway " + gw->ToString() + " is outside its subnet " + net);
    } else if (reserved(*gw)) {
      diags->Error(pos("network.address"), "host '" + h.name + "' gateway " + gw->ToString() +
                                               " is the network or broadcast address of " + net);
    } else if (*gw == ip) {
      diags->Error(pos("network.address"), "host '" + h.name + "' address " + ip.ToString() + " is its gateway");
    }
  }
  if (h.network.vip) {
    Ipv4 vip = *h.network.vip;
    if (!subnet.Contains(vip)) {
      diags->Error(pos("network.vip"), "host '" + h.name + "' vip " + vip.ToString() + " is outside its subnet " + net);
    } else if (reserved(vip)) {
      diags->Error(pos("network.vip"),
                   "host '" + h.name + "' vip " + vip.ToString() + " is the network or broadcast address of " + net);
    } else if (vip == ip) {
      diags->Error(pos("network.vip"), "host '" + h.name + "' vip " + vip.ToString() + " is the host's own address");
    } else if (gw && vip == *gw) {
      diags->Error(pos("network.vip"), "host '" + h.name + "' vip " + vip.ToString() + " is the gateway");
    } else {
      // The management VMs take the ten addresses after the VIP (MgmtNetwork
      // in install_run.cc): never the host's own address or the gateway.
      const std::string pool = Ipv4{vip.value + 1}.ToString() + "-" +
                               (uint64_t{vip.value} + 10 <= 0xffffffffu ? Ipv4{vip.value + 10}.ToString() : "?");
      const std::string what = "host '" + h.name + "': the management VMs take the 10 addresses after vip " +
                               vip.ToString() + " (" + pool + "), ";
      IpRange mgmt{Ipv4{vip.value + 1}, Ipv4{vip.value + 10}};
      if (uint64_t{vip.value} + 10 >= subnet.last.value) {
        diags->Error(pos("network.vip"), what + "past the end of subnet " + net + "; choose a lower vip");
      } else if (mgmt.Contains(ip)) {
        diags->Error(pos("network.vip"), what + "which include the host's own address " + ip.ToString());
      } else if (gw && mgmt.Contains(*gw)) {
        diags->Error(pos("network.vip"), what + "which include the gateway " + gw->ToString());
      }
    }
  }
}

FleetHost ReadHost(const toml::table& t, const std::string& file, bool defaults, Diagnostics* diags) {
  FleetHost h;
  TableReader r(t, file, defaults ? "[defaults]" : "[[host]]", diags);
  h.pos = r.TablePos();
  if (!defaults) {
    h.name = ReadDnsName(r, "name", Need::kRequired).value_or("");
    if (auto s = r.String("mac", Need::kOptional)) {
      std::string why;
      h.mac = ParseMac(*s, &why);
      if (!h.mac) r.ErrorAt("mac", "'mac': " + why);
      h.positions["mac"] = r.ValuePos("mac");
    }
    if (auto s = r.String("serial", Need::kOptional)) {
      if (Trim(*s).empty()) r.ErrorAt("serial", "'serial' is empty");
      h.serial = *s;
      h.positions["serial"] = r.ValuePos("serial");
    }
    if (auto s = r.String("uuid", Need::kOptional)) {
      if (!IsUuid(*s))
        r.ErrorAt("uuid", "'uuid' '" + *s + "' is not an SMBIOS UUID like 4c4c4544-0042-3510-8052-b4c04f4b4e32");
      h.uuid = *s;
      std::transform(h.uuid.begin(), h.uuid.end(), h.uuid.begin(), [](unsigned char c) { return std::tolower(c); });
      h.positions["uuid"] = r.ValuePos("uuid");
    }
    if (!h.mac && h.serial.empty() && h.uuid.empty() && !r.Has("mac") && !r.Has("serial") && !r.Has("uuid")) {
      diags->Error(h.pos, "host '" + h.name + "' has no 'mac', 'serial' or 'uuid' to match it by; add one");
    }
  } else {
    for (const char* k : {"name", "mac", "serial", "uuid"}) {
      if (r.Has(k)) {
        r.Allow(k);
        r.ErrorAt(k, std::string("'") + k + "' identifies one host; it cannot be in [defaults]");
      }
    }
  }
  if (auto s = ReadDnsName(r, "hardware_profile", Need::kOptional)) {
    h.hardware_profile = *s;
    h.positions["hardware_profile"] = r.ValuePos("hardware_profile");
  }
  if (auto list = r.StringArray("clusters", Need::kOptional)) {
    h.clusters = *list;
    h.positions["clusters"] = r.ValuePos("clusters");
  }
  h.libvirt_uri = r.String("libvirt_uri", Need::kOptional).value_or("");
  h.install_disk = ReadInstallDiskRule(r, file, diags);
  if (h.install_disk) {
    h.install_disk->origin = "answer file " + file + (defaults ? " [defaults]" : " (host '" + h.name + "')");
  }
  ReadSshKeys(r, &h);
  if (const toml::table* n = r.Table("network", Need::kOptional)) ReadHostNetwork(*n, file, defaults, &h, diags);
  r.Finish();
  return h;
}

// Reports the second and later hosts that share a value with an earlier one.
template <typename Key>
void CheckUnique(const std::vector<FleetHost>& hosts, const char* what, const char* pos_key, Key key,
                 Diagnostics* diags) {
  std::map<std::string, const FleetHost*> seen;
  for (const FleetHost& h : hosts) {
    std::string k = key(h);
    if (k.empty()) continue;
    auto [it, inserted] = seen.emplace(k, &h);
    if (!inserted) {
      auto pos = h.positions.count(pos_key) ? h.positions.at(pos_key) : h.pos;
      diags->Error(pos, std::string("duplicate ") + what + " " + k + ": host '" + h.name + "' and host '" +
                            it->second->name + "' (line " + std::to_string(it->second->pos.line) + ") both use it");
    }
  }
}

}  // namespace

std::optional<Fleet> ReadFleet(const toml::table& root, const std::string& file, Diagnostics* diags, Fleet* partial) {
  size_t errors_before = diags->ErrorCount();
  Fleet f;
  f.file = file;
  TableReader top(root, file, "", diags);
  top.Allow("kind");
  if (const toml::table* d = top.Table("defaults", Need::kOptional)) f.defaults = ReadHost(*d, file, true, diags);
  for (const toml::table* t : top.TableArray("host", Need::kRequired))
    f.hosts.push_back(ReadHost(*t, file, false, diags));
  top.Finish();

  CheckUnique(
      f.hosts, "host name", "name", [](const FleetHost& h) { return h.name; }, diags);
  CheckUnique(
      f.hosts, "MAC", "mac", [](const FleetHost& h) { return h.mac ? FormatMac(*h.mac) : ""; }, diags);
  CheckUnique(
      f.hosts, "serial", "serial", [](const FleetHost& h) { return h.serial; }, diags);
  CheckUnique(
      f.hosts, "UUID", "uuid", [](const FleetHost& h) { return h.uuid; }, diags);
  // A host address and a VIP must be distinct across the whole fleet.
  std::map<uint32_t, std::pair<const FleetHost*, SourcePos>> ips;
  for (const FleetHost& h : f.hosts) {
    std::pair<std::optional<Ipv4>, const char*> own[] = {
        {h.network.address ? std::optional<Ipv4>(h.network.address->first) : std::nullopt, "network.address"},
        {h.network.vip, "network.vip"}};
    for (const auto& [ip, key] : own) {
      if (!ip) continue;
      SourcePos pos = h.positions.count(key) ? h.positions.at(key) : h.pos;
      auto [it, inserted] = ips.emplace(ip->value, std::make_pair(&h, pos));
      if (!inserted) {
        diags->Error(pos, "IP " + ip->ToString() + " of host '" + h.name + "' is already used by host '" +
                              it->second.first->name + "' (line " + std::to_string(it->second.second.line) + ")");
      }
    }
  }
  for (const FleetHost& h : f.hosts) CheckHostAddresses(h, f.defaults, diags);
  for (const FleetHost& h : f.hosts) {
    if (h.hardware_profile.empty() && f.defaults.hardware_profile.empty() && !h.name.empty()) {
      diags->Error(h.pos, "host '" + h.name + "' has no 'hardware_profile' and [defaults] sets none");
    }
  }
  if (partial) *partial = f;
  if (diags->ErrorCount() != errors_before) return std::nullopt;
  return f;
}

}  // namespace slipway::installer
