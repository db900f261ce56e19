// Installing Service rules in the running load balancers (`slipway lb
// sync`): the payload lb-apply reads (common/lb_apply.h), and its delivery
// over SSH with the cluster's own key. See docs/load-balancer.md.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::installer {

/// The payload for one load balancer: a POSIX tar (libarchive, ustar) of
/// haproxy.cfg, keepalived.conf (when `keepalived` is not empty),
/// service-ports and, for a single LB, addresses ("A.B.C.D/P" lines: the
/// Service VIPs it holds itself). Owner root, mode 0644 and mtime 0, so
/// that the same rules give the same bytes.
Result<std::string> LbPayload(const std::string& haproxy, const std::string& keepalived, const std::vector<int>& ports,
                              const std::optional<std::string>& addresses);

struct LbLogin {
  std::string key_file;     ///< the cluster's private key (0600)
  std::string known_hosts;  ///< the hosts file ssh keeps (first use is trusted)
  int connect_timeout_s = 10;
  std::string ssh = "ssh";  ///< the client program
};

/// Sends `payload` to lb-apply on root@`ip` and returns what lb-apply
/// printed. An error names the load balancer and carries lb-apply's or
/// ssh's own message (nothing changed on a refusal).
Result<std::string> PushLbPayload(const std::string& name, const std::string& ip, const std::string& payload,
                                  const LbLogin& login);

}  // namespace slipway::installer
