// First-boot agent and role setup.
#include "builder/agent.h"

#include <filesystem>

#include "common/atomic_file.h"
#include "common/lb_apply.h"

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
mkdir -p /run/slipway && echo "$name" >/run/slipway/hostname
# The VM's role, from the runcmd line of user-data, for node-setup.
sed -n 's|^ *- \[/usr/lib/slipway/node-setup, *\([a-z-]*\)\]$|\1|p' "$seed/user-data" | head -n 1 >/run/slipway/role
# The OS disk is bigger than the image (the plan's overlay): move the backup
# GPT to the disk's end, grow the root partition (the last one) and its ext4
# file system, online. Idempotent: a root that fills its disk is left alone.
grow_root() {
  src=$(findmnt -no SOURCE / 2>/dev/null) || return 0
  part=${src#/dev/}
  [ -r "/sys/class/block/$part/partition" ] || return 0
  nr=$(cat "/sys/class/block/$part/partition")
  disk=$(basename "$(readlink -f "/sys/class/block/$part/..")")
  dev=/dev/$disk
  command -v sfdisk >/dev/null && command -v resize2fs >/dev/null || {
    console "slipway-firstboot: no sfdisk/resize2fs in the image; root left at its image size"
    return 0
  }
  total=$(cat "/sys/class/block/$disk/size")
  start=$(cat "/sys/class/block/$part/start")
  size=$(cat "/sys/class/block/$part/size")
  # Leave the 33 sectors of the backup GPT and 1 MiB alignment slack.
  [ $((start + size + 2048 + 33)) -lt "$total" ] || return 0
  sfdisk --relocate gpt-bak-std "$dev" >/dev/null 2>&1
  echo ", +" | sfdisk --no-reread --no-tell-kernel -q -N "$nr" "$dev" >/dev/null 2>&1 || {
    console "slipway-firstboot: cannot grow partition $nr of $dev"
    return 0
  }
  new=$(sfdisk -d "$dev" 2>/dev/null | sed -n "s|^$src *:.*size= *\([0-9]*\).*|\1|p")
  [ -n "$new" ] && resizepart "$dev" "$nr" "$new" 2>/dev/null
  if resize2fs "$src" >/dev/null 2>&1; then
    console "slipway-firstboot: root grown to $(df -Pm / | awk 'NR==2 { print $2 }') MiB on $dev"
  else
    console "slipway-firstboot: resize2fs $src failed"
  fi
}
grow_root
# Network (version 2): each ethernet matched by MAC gets its set-name, its
# first address and its default route. A seed without a MAC match
# configures the first NIC.
nic_of_mac() {
  for n in /sys/class/net/*; do
    [ "$(cat "$n/address" 2>/dev/null)" = "$1" ] && { basename "$n"; return; }
  done
}
awk '/^  [A-Za-z0-9_-]+:$/ { if (seen) print mac, name, addr, gw; seen = 1; mac = "-"; name = "-"; addr = "-"; gw = "-" }
     /macaddress:/ { m = $2; gsub(/"/, "", m); mac = m }
     /set-name:/ { name = $2 }
     /^    addresses: *\[/ { a = $0; sub(/.*\[/, "", a); sub(/[],].*/, "", a); if (addr == "-") addr = a }
     /via:/ { if (gw == "-") gw = $2 }
     END { if (seen) print mac, name, addr, gw }' "$seed/network-config" >/run/slipway/nics 2>/dev/null
if [ ! -s /run/slipway/nics ]; then
  addr=$(sed -n 's/^ *addresses: *\[\([^],]*\).*/\1/p' "$seed/network-config" | head -n 1)
  gw=$(sed -n 's/^ *via: *//p' "$seed/network-config" | head -n 1)
  [ -n "$addr" ] && echo "- - $addr ${gw:--}" >/run/slipway/nics
fi
if command -v ip >/dev/null; then
  while read -r mac want addr gw; do
    nic=""
    [ "$mac" != "-" ] && nic=$(nic_of_mac "$mac")
    [ -z "$nic" ] && [ "$mac" = "-" ] && nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
    if [ -z "$nic" ]; then
      console "slipway-firstboot: no NIC has MAC $mac"
      continue
    fi
    if [ "$want" != "-" ] && [ "$nic" != "$want" ]; then
      ip link set dev "$nic" down 2>/dev/null
      ip link set dev "$nic" name "$want" 2>/dev/null && nic=$want
    fi
    ip link set "$nic" up 2>/dev/null
    [ "$addr" != "-" ] && ip addr add "$addr" dev "$nic" 2>/dev/null
    [ "$gw" != "-" ] && ip route add default via "$gw" 2>/dev/null
    console "slipway-firstboot: $nic ${addr#-}"
  done </run/slipway/nics
fi
# DNS: the nameservers of network-config (the first NIC's), if any. A
# network with none leaves resolv.conf alone rather than name a server
# that does not answer.
dns=$(sed -n '/nameservers:/,/addresses:/s/^ *addresses: *\[\(.*\)\]$/\1/p' "$seed/network-config" | head -n 1 | tr -d ' ')
if [ -n "$dns" ]; then
  rm -f /etc/resolv.conf
  for d in $(echo "$dns" | tr ',' ' '); do echo "nameserver $d"; done >/etc/resolv.conf
  console "slipway-firstboot: DNS $dns"
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
# The API VIP of a single load balancer (no VRRP pair): a second address on
# the NIC of the first address, before HAProxy starts. keepalived holds it
# where there is a pair.
if [ -s /etc/slipway/vip ] && command -v ip >/dev/null; then
  vip=$(head -n 1 /etc/slipway/vip)
  nic=$(awk 'NR == 1 { print $2 }' /run/slipway/nics)
  { [ -z "$nic" ] || [ "$nic" = "-" ]; } && nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
  if ip addr add "$vip" dev "$nic" 2>/dev/null || ip addr show dev "$nic" | grep -q " ${vip%/*}/"; then
    console "slipway-firstboot: VIP $vip on $nic"
  else
    console "slipway-firstboot: cannot add VIP $vip to $nic"
  fi
fi
# An SSH host key of this VM's own (the image carries none: see harden.cc).
# Ed25519 only, the one sshd is configured for: an RSA key takes many
# seconds to make under emulation.
if command -v ssh-keygen >/dev/null && [ ! -e /etc/ssh/ssh_host_ed25519_key ]; then
  ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key >/dev/null 2>&1 &&
    console "slipway-firstboot: SSH host key made"
fi
# A single load balancer's Service VIPs (lb-apply keeps them here).
if [ -s /etc/slipway/lb/addresses ] && command -v ip >/dev/null; then
  nic=$(awk 'NR == 1 { print $2 }' /run/slipway/nics)
  { [ -z "$nic" ] || [ "$nic" = "-" ]; } && nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
  for a in $(cat /etc/slipway/lb/addresses); do ip addr replace "$a" dev "$nic" 2>/dev/null; done
fi
# SSH keys: the ssh_authorized_keys list of user-data, for the slipway user
# (made here when the image has none: no password, a login by key only). The
# operator reads the system journal (group systemd-journal), not root's files.
keys=$(sed -n 's/^ *- "\(ssh-[^"]*\)"$/\1/p; s/^ *- "\(ecdsa-[^"]*\)"$/\1/p' "$seed/user-data")
if [ -n "$keys" ] && ! id slipway >/dev/null 2>&1; then
  groups=""
  getent group systemd-journal >/dev/null 2>&1 && groups="-G systemd-journal"
  useradd -m -s /bin/sh -p '*' $groups slipway 2>/dev/null || console "slipway-firstboot: cannot add the slipway user"
fi
if [ -n "$keys" ] && [ -d /home/slipway ]; then
  mkdir -p /home/slipway/.ssh && echo "$keys" >/home/slipway/.ssh/authorized_keys
  chmod 700 /home/slipway/.ssh && chmod 600 /home/slipway/.ssh/authorized_keys
  chown -R slipway: /home/slipway/.ssh 2>/dev/null
fi
umount "$seed" 2>/dev/null || true
)AGENT";
  return kScript;
}

const std::string& LbApplyScript() {
  static const std::string kScript = R"LBAPPLY(#!/bin/sh
# slipway lb-apply: installs the Service rules that `slipway lb sync` sends.
# sshd runs it for the cluster's load-balancer key, and for nothing else
# (authorized_keys: restrict,command=...). stdin is a tar of regular files:
# haproxy.cfg, keepalived.conf (a VRRP pair only) and service-ports (one TCP
# port per line). Each is checked (haproxy -c, keepalived -t, port syntax)
# before anything is changed; then the files are renamed into place, the
# firewall's Service ports set, HAProxy reloaded seamlessly (master-worker,
# USR2: established connections stay on the old worker) and keepalived
# reloaded. Written by Slipway's image builder; see docs/load-balancer.md.
set -u
umask 077
# Each step says how long the run has taken (a reload under TCG is slow).
t0=$(date +%s%N)
elapsed() { t=$((($(date +%s%N) - t0) / 10000000)); printf '%d.%02d' $((t / 100)) $((t % 100)); }
say() { echo "lb-apply: $* (at $(elapsed) s)"; }
work=$(mktemp -d /run/slipway-lb-apply.XXXXXX) || { echo "lb-apply: cannot make a temp folder" >&2; exit 1; }
fail() { echo "lb-apply: $*; nothing changed" >&2; rm -rf "$work"; exit 1; }
exec 9>/run/slipway-lb-apply.lock
flock -w 60 9 || fail "another lb-apply has held the lock for 60 s"
head -c 4194305 >"$work/payload.tar"
[ "$(stat -c %s "$work/payload.tar")" -le 4194304 ] || fail "the payload is larger than 4 MiB"
names=$(tar -tf "$work/payload.tar" 2>/dev/null) || fail "the payload is not a tar archive"
types=$(tar -tvf "$work/payload.tar" 2>/dev/null | cut -c1 | sort -u)
[ -z "$types" ] || [ "$types" = "-" ] || fail "the payload holds something other than regular files"
for n in $names; do
  case "$n" in
    haproxy.cfg|keepalived.conf|service-ports|addresses) ;;
    *) fail "the payload holds '$n'; only haproxy.cfg, keepalived.conf, service-ports and addresses are taken" ;;
  esac
done
mkdir "$work/in"
tar -xf "$work/payload.tar" -C "$work/in" --no-same-owner --no-same-permissions 2>/dev/null || fail "cannot unpack the payload"
in=$work/in
[ -f "$in/haproxy.cfg" ] && [ ! -L "$in/haproxy.cfg" ] || fail "the payload has no haproxy.cfg"
haproxy -c -q -f "$in/haproxy.cfg" >"$work/check" 2>&1 || fail "haproxy -c refused haproxy.cfg: $(head -c 2000 "$work/check")"
if [ -f "$in/keepalived.conf" ]; then
  keepalived -t -f "$in/keepalived.conf" >"$work/check" 2>&1 || fail "keepalived -t refused keepalived.conf: $(head -c 2000 "$work/check")"
fi
ports=""
if [ -f "$in/service-ports" ]; then
  for p in $(cat "$in/service-ports"); do
    case "$p" in
      ''|*[!0-9]*) fail "service-ports: '$p' is not a TCP port" ;;
    esac
    { [ "$p" -ge 1 ] && [ "$p" -le 65535 ]; } || fail "service-ports: $p is not a TCP port (1-65535)"
    ports="${ports:+$ports, }$p"
  done
fi
addrs=""
if [ -f "$in/addresses" ]; then
  for a in $(cat "$in/addresses"); do
    echo "$a" | grep -Eq '^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$' || fail "addresses: '$a' is not A.B.C.D/PREFIX"
    addrs="$addrs $a"
  done
fi
# Everything checked: install. Each file is renamed into place whole.
mkdir -p /etc/slipway/lb
{
  echo "flush set inet filter service_ports"
  [ -n "$ports" ] && echo "add element inet filter service_ports { $ports }"
} >"$work/ports.nft"
install -m 0644 "$in/haproxy.cfg" /etc/haproxy/.haproxy.cfg.new && mv -f /etc/haproxy/.haproxy.cfg.new /etc/haproxy/haproxy.cfg
vrrp=0
if [ -f "$in/keepalived.conf" ]; then
  vrrp=1
  install -m 0644 "$in/keepalived.conf" /etc/keepalived/.keepalived.conf.new &&
    mv -f /etc/keepalived/.keepalived.conf.new /etc/keepalived/keepalived.conf
fi
install -m 0644 "$work/ports.nft" /etc/slipway/lb/.ports.nft.new && mv -f /etc/slipway/lb/.ports.nft.new /etc/slipway/lb/ports.nft
if [ -f "$in/addresses" ]; then
  # A single LB's Service VIPs, on the NIC of its first address (the
  # agent adds them again at boot). Ones held before and not listed go.
  nic=$(awk 'NR == 1 { print $2 }' /run/slipway/nics 2>/dev/null)
  { [ -z "$nic" ] || [ "$nic" = "-" ]; } && nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
  for old in $(cat /etc/slipway/lb/addresses 2>/dev/null); do
    case " $addrs " in *" $old "*) ;; *) ip addr del "$old" dev "$nic" 2>/dev/null ;; esac
  done
  for a in $addrs; do ip addr replace "$a" dev "$nic" || fail "cannot add $a to $nic"; done
  install -m 0644 "$in/addresses" /etc/slipway/lb/.addresses.new && mv -f /etc/slipway/lb/.addresses.new /etc/slipway/lb/addresses
  say "addresses on $nic:${addrs:- none}"
fi
sync
rm -rf "$work"
if command -v nft >/dev/null && nft list set inet filter service_ports >/dev/null 2>&1; then
  nft -f /etc/slipway/lb/ports.nft || { echo "lb-apply: nft refused the Service ports" >&2; exit 1; }
  say "service ports open: ${ports:-none}"
fi
reload() {  # the unit reloads when it runs, starts when it does not
  if systemctl is-active --quiet "$1"; then
    systemctl reload "$1" && say "$1 reloaded" || { echo "lb-apply: $1 did not reload" >&2; exit 1; }
  else
    systemctl restart "$1" && say "$1 started" || { echo "lb-apply: $1 did not start" >&2; exit 1; }
  fi
}
reload haproxy
# A reload whose new worker cannot bind leaves the old one serving: wait for
# every Service bind of the new config to listen, or say that it did not.
binds=$(sed -n 's/^ *bind \([0-9.]*:[0-9]*\) transparent$/\1/p' /etc/haproxy/haproxy.cfg)
missing=""
for i in $(seq 1 20); do
  missing=""
  listening=$(ss -Hltn 2>/dev/null | awk '{ print $4 }')
  for b in $binds; do echo "$listening" | grep -qx "$b" || missing="$missing $b"; done
  [ -z "$missing" ] && break
  sleep 0.5
done
if [ -n "$missing" ]; then
  echo "lb-apply: haproxy does not listen on$missing after its reload: $(journalctl -u haproxy -n 5 --no-pager -o cat 2>/dev/null | tr '\n' ' ')" >&2
  exit 1
fi
say "haproxy listens on: ${binds:-no Service}" | tr '\n' ' '
echo
[ "$vrrp" = 1 ] && reload keepalived
say "done"
)LBAPPLY";
  return kScript;
}

const std::string& NodeSetupScript(ImageRole image_role) {
  // Shared head: console output, the service check, the firewall check.
  static const std::string kHead = R"SETUP(#!/bin/sh
# slipway node-setup: the role's setup after the first-boot agent, then the
# ready marker. Written by Slipway's image builder; see docs/images.md.
set -u
say() { echo "slipway-role-setup: $*" >/dev/console 2>/dev/null || echo "slipway-role-setup: $*"; }
name=$(cat /run/slipway/hostname 2>/dev/null || hostname)
role=${1:-$(cat /run/slipway/role 2>/dev/null)}
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
service() {  # service NAME CONFIG CHECK...: the seed's config passes its check, the unit runs
  svc=$1 cfg=$2
  shift 2
  if [ ! -s "$cfg" ]; then say "$svc: no $cfg from the seed; not started"; return; fi
  if ! "$@" >/dev/null 2>&1; then say "$svc: $cfg fails '$*'"; return; fi
  have_systemd || { say "$svc: config ok (no systemd here)"; return; }
  systemctl is-active --quiet "$svc" || systemctl restart "$svc" 2>/dev/null
  if systemctl is-active --quiet "$svc"; then say "$svc active"; else say "$svc failed to start"; fi
}
# The boot's security, as the guest sees it: Secure Boot from efivars (a
# 4-byte attribute word, then the value), and the kernel's TPM resource
# manager.
sb=disabled
sbvar=/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c
if [ ! -d /sys/firmware/efi ]; then
  sb="not applicable (BIOS boot)"
elif [ ! -r "$sbvar" ]; then
  sb="unknown (no efivars)"
elif [ "$(od -An -tu1 -j4 -N1 "$sbvar" 2>/dev/null | tr -d ' ')" = 1 ]; then
  sb=enabled
fi
tpm="TPM none"
[ -c /dev/tpmrm0 ] && tpm="TPM $(cat /sys/class/tpm/tpm0/tpm_version_major 2>/dev/null) at /dev/tpmrm0"
say "SecureBoot $sb; $tpm"
if command -v nft >/dev/null; then
  if nft list chain inet filter input 2>/dev/null | grep -q 'policy drop'; then
    say "nftables: inbound policy drop"
  else
    say "nftables: no default-deny inbound ruleset loaded"
  fi
fi
)SETUP";
  static const std::string kLoadBalancer =
      kHead + R"SETUP(service haproxy /etc/haproxy/haproxy.cfg haproxy -c -f /etc/haproxy/haproxy.cfg
service keepalived /etc/keepalived/keepalived.conf keepalived -t -f /etc/keepalived/keepalived.conf
echo "slipway-node-ready $name" >/dev/console 2>/dev/null || echo "slipway-node-ready $name"
)SETUP";
  static const std::string kNode = kHead + R"SETUP(if have_systemd && command -v containerd >/dev/null; then
  systemctl is-active --quiet containerd || systemctl restart containerd 2>/dev/null
  if systemctl is-active --quiet containerd; then say "containerd active"; else say "containerd failed to start"; fi
fi
# etcd: a control plane's member, from the plan's unit and config. A
# member of a forming cluster is active once a quorum of its peers is up,
# so it is started without waiting; up to 30 s are given to say so.
if [ -s /etc/systemd/system/slipway-etcd.service ] && have_systemd; then
  systemctl daemon-reload
  systemctl enable slipway-etcd.service >/dev/null 2>&1
  systemctl start --no-block slipway-etcd.service
  for i in $(seq 1 30); do systemctl is-active --quiet slipway-etcd.service && break; sleep 1; done
  if systemctl is-active --quiet slipway-etcd.service; then
    say "etcd active"
  else
    say "etcd $(systemctl is-active slipway-etcd.service 2>/dev/null) (waiting for a quorum of its peers)"
  fi
fi
# The Kubernetes bundle's container images: checked against the sums the
# builder wrote, then imported into containerd's k8s.io namespace from the
# local files. Nothing is pulled from a registry. Once per boot is enough:
# an import of an image containerd holds is a no-op.
k8s=/var/lib/slipway/kubernetes
if [ -s "$k8s/images.sha256" ]; then
  total=$(wc -l <"$k8s/images.sha256")
  if ! (cd "$k8s/images" && sha256sum -c "$k8s/images.sha256" >/dev/null 2>&1); then
    say "kubernetes images: checksum mismatch in $k8s/images; none imported"
  elif ! command -v ctr >/dev/null; then
    say "kubernetes images: ctr not found; none imported"
  else
    n=0
    while read -r sum file; do
      if ctr -n k8s.io images import "$k8s/images/$file" >/dev/null 2>&1; then
        n=$((n + 1))
      else
        say "kubernetes images: cannot import $file"
      fi
    done <"$k8s/images.sha256"
    say "kubernetes images: imported $n of $total from $k8s/images (offline, no registry)"
  fi
fi
if [ -s "$k8s/version" ]; then
  say "Kubernetes $(cat "$k8s/version") from the bundle"
  have_systemd && say "kubelet.service $(systemctl is-enabled kubelet 2>&1)"
else
  say "no Kubernetes bundle: nodes run etcd and containerd only"
fi
if [ -s /etc/kubernetes/kubeadm.yaml ]; then
  if command -v kubeadm >/dev/null; then
    case "$role" in
      control-plane|apiserver) kubeadm init --config /etc/kubernetes/kubeadm.yaml && say "kubeadm init done" ;;
      *) kubeadm join --config /etc/kubernetes/kubeadm.yaml && say "kubeadm join done" ;;
    esac
  else
    say "kubeadm is not installed (Debian 12 does not package it; build the image with --kubernetes BUNDLE): $role not joined"
  fi
fi
echo "slipway-node-ready $name" >/dev/console 2>/dev/null || echo "slipway-node-ready $name"
)SETUP";
  return image_role == ImageRole::kLoadBalancer ? kLoadBalancer : kNode;
}

Status InstallAgent(const std::string& root, ImageRole image_role) {
  std::error_code ec;
  fs::create_directories(root + "/usr/lib/slipway", ec);
  fs::create_directories(root + "/etc/systemd/system/multi-user.target.wants", ec);
  if (auto st = WriteFileAtomic(root + "/usr/lib/slipway/firstboot", AgentScript(), 0755); !st) return st;
  if (auto st = WriteFileAtomic(root + "/usr/lib/slipway/node-setup", NodeSetupScript(image_role), 0755); !st) {
    return st;
  }
  if (image_role == ImageRole::kLoadBalancer) {
    if (auto st = WriteFileAtomic(root + kLbApplyPath, LbApplyScript(), 0755); !st) return st;
  }
  // The agent runs before the network is online, so that the services of the
  // role (ordered after it) start on the seed's files; node-setup runs after
  // them and checks them, so it never waits on a job queued behind itself.
  std::string firstboot =
      "[Unit]\nDescription=Slipway first-boot agent (NoCloud seed)\nAfter=local-fs.target "
      "systemd-udev-trigger.service\n"
      // ssh.service explicitly: sshd needs the host keys the agent makes.
      "Before=network-pre.target network-online.target ssh.service\nWants=network-pre.target\n\n"
      "[Service]\nType=oneshot\nExecStart=/usr/lib/slipway/firstboot\n"
      "StandardOutput=journal+console\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n";
  std::string setup =
      "[Unit]\nDescription=Slipway role setup and ready marker\n"
      "After=slipway-firstboot.service network-online.target nftables.service containerd.service "
      "haproxy.service keepalived.service\nRequires=slipway-firstboot.service\n\n"
      "[Service]\nType=oneshot\nExecStart=/usr/lib/slipway/node-setup\n"
      "StandardOutput=journal+console\nRemainAfterExit=yes\n\n[Install]\nWantedBy=multi-user.target\n";
  // Debian's etcd.service would start an unauthenticated member on
  // localhost on every node; a control plane runs slipway-etcd.service,
  // which its plan brings (the same binary, TLS, the planned members).
  if (image_role != ImageRole::kLoadBalancer) {
    std::string link = root + "/etc/systemd/system/etcd.service";
    fs::remove(link, ec);
    fs::create_symlink("/dev/null", link, ec);
    if (ec) return Error::Runtime("cannot mask etcd.service: " + ec.message());
  }
  for (const auto& [unit, text] : {std::pair<std::string, std::string>{"slipway-firstboot.service", firstboot},
                                   {"slipway-node-setup.service", setup}}) {
    if (auto st = WriteFileAtomic(root + "/etc/systemd/system/" + unit, text, 0644); !st) return st;
    std::string link = root + "/etc/systemd/system/multi-user.target.wants/" + unit;
    fs::remove(link, ec);
    fs::create_symlink("/etc/systemd/system/" + unit, link, ec);
    if (ec) return Error::Runtime("cannot enable " + unit + ": " + ec.message());
  }
  return Ok();
}

}  // namespace slipway::builder
