// First-boot agent.
#include "builder/agent.h"

#include <filesystem>

#include "common/atomic_file.h"

namespace slipway::builder {

namespace fs = std::filesystem;

const std::string& AgentScript() {
  static const std::string kScript = R"AGENT(#!/bin/sh
# slipway-firstboot: applies the NoCloud seed of this VM (label cidata).
# Written by Slipway's image builder; see docs/images.md.
set -u
console() { echo "$*" >/dev/console 2>/dev/null || echo "$*"; }
seed=/run/slipway/seed
dev=""
for i in $(seq 1 30); do
  dev=$(findfs LABEL=cidata 2>/dev/null || blkid -l -t LABEL=cidata -o device 2>/dev/null || true)
  [ -n "$dev" ] && break
  sleep 1
done
if [ -z "$dev" ]; then
  console "slipway-firstboot: no seed (no file system labelled cidata)"
  exit 1
fi
mkdir -p "$seed"
mount -t iso9660 -o ro "$dev" "$seed" || { console "slipway-firstboot: cannot mount $dev"; exit 1; }
name=$(sed -n 's/^local-hostname: *//p' "$seed/meta-data")
[ -n "$name" ] || { console "slipway-firstboot: meta-data has no local-hostname"; exit 1; }
hostname "$name"
echo "$name" >/etc/hostname 2>/dev/null || true
# Network: the first address and route of network-config (version 2).
addr=$(sed -n 's/^ *addresses: *\[\([^],]*\).*/\1/p' "$seed/network-config" | head -n 1)
gw=$(sed -n 's/^ *via: *//p' "$seed/network-config" | head -n 1)
if [ -n "$addr" ] && command -v ip >/dev/null; then
  nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
  if [ -n "$nic" ]; then
    ip link set "$nic" up 2>/dev/null
    ip addr add "$addr" dev "$nic" 2>/dev/null
    [ -n "$gw" ] && ip route add default via "$gw" 2>/dev/null
  fi
fi
# Files: slipway/files/<path> on the seed, modes in slipway/modes ("0600 /path").
written=0
if [ -d "$seed/slipway/files" ]; then
  for f in $(cd "$seed/slipway/files" && find . -type f | sed 's|^\./||'); do
    mkdir -p "/$(dirname "$f")" && cp "$seed/slipway/files/$f" "/$f" && written=$((written + 1))
  done
  [ -f "$seed/slipway/modes" ] && while read -r mode path; do chmod "$mode" "$path" 2>/dev/null; done <"$seed/slipway/modes"
fi
console "slipway-firstboot: wrote $written file(s)"
# SSH keys: the ssh_authorized_keys list of user-data, for the slipway user.
keys=$(sed -n 's/^ *- "\(ssh-[^"]*\)"$/\1/p; s/^ *- "\(ecdsa-[^"]*\)"$/\1/p' "$seed/user-data")
if [ -n "$keys" ] && [ -d /home/slipway ]; then
  mkdir -p /home/slipway/.ssh && echo "$keys" >/home/slipway/.ssh/authorized_keys
  chmod 700 /home/slipway/.ssh && chmod 600 /home/slipway/.ssh/authorized_keys
fi
[ -x /usr/lib/slipway/node-setup ] && /usr/lib/slipway/node-setup || true
console "slipway-node-ready $name"
)AGENT";
  return kScript;
}

Status InstallAgent(const std::string& root) {
  std::error_code ec;
  fs::create_directories(root + "/usr/lib/slipway", ec);
  fs::create_directories(root + "/etc/systemd/system/multi-user.target.wants", ec);
  if (auto st = WriteFileAtomic(root + "/usr/lib/slipway/firstboot", AgentScript(), 0755); !st) return st;
  std::string unit =
      "[Unit]\nDescription=Slipway first-boot agent (NoCloud seed)\nAfter=local-fs.target\n"
      "Before=network-online.target\n\n[Service]\nType=oneshot\nExecStart=/usr/lib/slipway/firstboot\n"
      "StandardOutput=journal+console\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n";
  if (auto st = WriteFileAtomic(root + "/etc/systemd/system/slipway-firstboot.service", unit, 0644); !st) return st;
  std::string link = root + "/etc/systemd/system/multi-user.target.wants/slipway-firstboot.service";
  fs::remove(link, ec);
  fs::create_symlink("/etc/systemd/system/slipway-firstboot.service", link, ec);
  if (ec) return Error::Runtime("cannot enable slipway-firstboot.service: " + ec.message());
  return Ok();
}

}  // namespace slipway::builder
