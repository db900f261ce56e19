// ARP probes on an AF_PACKET socket.
#include "installer/detect/arp_probe.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>

namespace slipway::installer {

namespace {

// An Ethernet/IPv4 ARP packet (RFC 826), without the Ethernet header (the
// SOCK_DGRAM socket adds and strips it).
struct [[gnu::packed]] ArpPacket {
  uint16_t htype;
  uint16_t ptype;
  uint8_t hlen;
  uint8_t plen;
  uint16_t op;
  uint8_t sha[6];
  uint8_t spa[4];
  uint8_t tha[6];
  uint8_t tpa[4];
};
static_assert(sizeof(ArpPacket) == 28);

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Mac(const uint8_t* m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

}  // namespace

Result<std::vector<ArpAnswer>> ArpProbe(const std::string& dev, const std::vector<Ipv4>& ips,
                                        const ArpProbeOptions& o) {
  std::vector<ArpAnswer> found;
  if (ips.empty()) return found;
  if (dev.empty() || dev.size() >= IFNAMSIZ) return Error::Input("ARP probe: bad interface name '" + dev + "'");
  Fd sock(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
  if (sock.get() < 0) {
    return Error::Runtime(std::string("ARP probe: cannot open a packet socket: ") + std::strerror(errno) +
                          " (needs root, or CAP_NET_RAW)");
  }
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, dev.c_str(), dev.size());
  if (::ioctl(sock.get(), SIOCGIFINDEX, &ifr) != 0) {
    return Error::Input("ARP probe: no interface '" + dev + "' on this host");
  }
  int index = ifr.ifr_ifindex;
  if (::ioctl(sock.get(), SIOCGIFHWADDR, &ifr) != 0) {
    return Error::Runtime("ARP probe: cannot read the MAC of '" + dev + "': " + std::strerror(errno));
  }
  uint8_t own[6];
  std::memcpy(own, ifr.ifr_hwaddr.sa_data, 6);
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ARP);
  addr.sll_ifindex = index;
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::Runtime("ARP probe: cannot bind to '" + dev + "': " + std::strerror(errno));
  }
  sockaddr_ll to = addr;
  to.sll_halen = 6;
  std::memset(to.sll_addr, 0xff, 6);

  std::map<uint32_t, std::string> answered;
  auto want = [&](uint32_t ip) {
    for (const Ipv4& a : ips) {
      if (a.value == ip) return true;
    }
    return false;
  };
  auto receive_until = [&](std::chrono::steady_clock::time_point until) {
    for (;;) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
      if (left <= 0) return;
      pollfd p{sock.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      ArpPacket in{};
      ssize_t n = ::recv(sock.get(), &in, sizeof in, 0);
      if (n < static_cast<ssize_t>(sizeof in) || ntohs(in.htype) != ARPHRD_ETHER || ntohs(in.ptype) != ETH_P_IP ||
          in.hlen != 6 || in.plen != 4) {
        continue;
      }
      if (std::memcmp(in.sha, own, 6) == 0) continue;  // our own probe, looped back
      uint32_t spa = 0;
      std::memcpy(&spa, in.spa, 4);
      spa = ntohl(spa);
      // A reply from the holder; or another host's request from that
      // address (it holds it, or announces it).
      if (spa != 0 && want(spa) && !answered.count(spa)) answered[spa] = Mac(in.sha);
      // Another host probing for the same address (sender 0.0.0.0): RFC
      // 5227 counts it as a conflict too.
      uint32_t tpa = 0;
      std::memcpy(&tpa, in.tpa, 4);
      tpa = ntohl(tpa);
      if (spa == 0 && ntohs(in.op) == ARPOP_REQUEST && want(tpa) && !answered.count(tpa)) {
        answered[tpa] = Mac(in.sha) + " (probing for it too)";
      }
    }
  };
  for (int round = 0; round < o.rounds; ++round) {
    for (const Ipv4& ip : ips) {
      if (answered.count(ip.value)) continue;
      ArpPacket out{};
      out.htype = htons(ARPHRD_ETHER);
      out.ptype = htons(ETH_P_IP);
      out.hlen = 6;
      out.plen = 4;
      out.op = htons(ARPOP_REQUEST);
      std::memcpy(out.sha, own, 6);
      uint32_t target = htonl(ip.value);
      std::memcpy(out.tpa, &target, 4);  // spa and tha stay zero: a probe
      if (::sendto(sock.get(), &out, sizeof out, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
        return Error::Runtime("ARP probe: cannot send on '" + dev + "': " + std::strerror(errno) +
                              " (is the interface up?)");
      }
    }
    bool last = round + 1 == o.rounds;
    receive_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(last ? o.wait_ms : o.interval_ms));
  }
  for (const Ipv4& ip : ips) {
    if (answered.count(ip.value)) found.push_back({ip, answered[ip.value]});
  }
  return found;
}

}  // namespace slipway::installer
