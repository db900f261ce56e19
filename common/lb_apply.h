// The contract between `slipway lb sync` and the load-balancer image's
// lb-apply: where the program lives, how the per-cluster key may use it,
// and what the payload holds. The builder installs the program
// (builder/agent.cc), the planner authorizes the key (planner.cc), and
// installer/apply/lb_push.cc sends the payload.
#pragma once

namespace slipway {

/// The only program the per-cluster load-balancer key may run.
inline constexpr const char* kLbApplyPath = "/usr/lib/slipway/lb-apply";
/// The options of that key's authorized_keys line: no shell, no
/// forwarding, no PTY; whatever command the client asks for, sshd runs
/// lb-apply (with the request in SSH_ORIGINAL_COMMAND, which it ignores).
inline constexpr const char* kLbApplyKeyOptions = "restrict,command=\"/usr/lib/slipway/lb-apply\"";
/// The payload on lb-apply's stdin: a POSIX tar of regular files with these
/// names, and nothing else (lb-apply refuses other members):
///  - haproxy.cfg: the whole HAProxy config (API frontend + Service rules);
///  - keepalived.conf: this LB's VRRP config (absent for a single LB);
///  - service-ports: the Service ports to open in the LB's firewall, one
///    decimal TCP port per line (may be empty).
inline constexpr const char* kLbPayloadHaproxy = "haproxy.cfg";
inline constexpr const char* kLbPayloadKeepalived = "keepalived.conf";
inline constexpr const char* kLbPayloadPorts = "service-ports";
///  - addresses: a single LB only (no VRRP pair): the Service VIPs it holds
///    as addresses of its own NIC, "A.B.C.D/PREFIX" per line; ones it held
///    before and that are not listed are removed.
inline constexpr const char* kLbPayloadAddresses = "addresses";

}  // namespace slipway
