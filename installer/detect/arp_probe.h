// Is an address already in use on a network segment? An ARP probe as RFC
// 5227 defines it (and `arping -D` sends): a request for the address with
// the sender's IP 0.0.0.0, so that no neighbour cache learns anything. A
// host that holds the address replies; so does one that is probing for it
// at the same time.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "common/net.h"

namespace slipway::installer {

struct ArpAnswer {
  Ipv4 ip;
  std::string mac;  ///< who answered, "aa:bb:..."
};

struct ArpProbeOptions {
  int rounds = 3;         ///< requests per address, as RFC 5227's PROBE_NUM
  int interval_ms = 200;  ///< between rounds
  int wait_ms = 1000;     ///< after the last round
};

/// Probes every address in `ips` on interface `dev`; returns those that
/// answered (each once, in the order of `ips`). Needs CAP_NET_RAW. Errors:
/// no such interface, or no raw socket (not root).
Result<std::vector<ArpAnswer>> ArpProbe(const std::string& dev, const std::vector<Ipv4>& ips,
                                        const ArpProbeOptions& options);

}  // namespace slipway::installer
