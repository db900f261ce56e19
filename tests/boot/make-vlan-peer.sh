#!/usr/bin/env bash
# Makes the initramfs of the "datacenter" peer in the bridge-mode ISO test: a
# QEMU guest on the other end of the ISO host's uplink, with Debian's kernel
# (fetched once into CACHE) and busybox only. Its init puts VLANs 100 and 200
# on its NIC and pings, through each, the IPv6 link-local address of the
# host's sub-bridge for VLAN 100 (TARGET): an answer through VLAN 100 means a
# frame went in tagged 100 and the reply came back out tagged 100; VLAN 200
# must stay silent. It prints "peer: ..." lines on its serial console.
#   tests/boot/make-vlan-peer.sh CACHE OUT TARGET   -> OUT/peer-initrd.img
set -euo pipefail
cache=$1 out=$2 target=$3
mkdir -p "$cache" "$out"
cache=$(cd "$cache" && pwd) out=$(cd "$out" && pwd)
bash "$(dirname "$0")/fetch-kernel.sh" "$cache" >/dev/null
mods=$(ls -d "$cache"/kernel/lib/modules/*/kernel)
order="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
  drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover drivers/net/net_failover
  drivers/net/virtio_net net/llc/llc net/802/stp net/802/garp net/802/mrp net/8021q/8021q"
root="$out/peer-root"
rm -rf "$root"
mkdir -p "$root"/{bin,lib/modules,dev,proc,sys}
cp /bin/busybox "$root/bin/busybox"
for m in $order; do cp "$mods/$m.ko" "$root/lib/modules/"; done
{
  echo '#!/bin/busybox sh'
  echo '/bin/busybox --install -s /bin'
  echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'
  for m in $order; do echo "insmod /lib/modules/$(basename "$m").ko"; done
  echo 'ip link set lo up; ip link set eth0 up'
  echo 'for v in 100 200; do ip link add link eth0 name eth0.$v type vlan id $v && ip link set eth0.$v up; done'
  echo "target=$target"
  cat <<'INIT'
echo "peer: VLANs 100 and 200 on eth0; pinging $target"
n=0
while ! ping6 -c 1 -W 1 -I eth0.100 "$target%eth0.100" >/dev/null 2>&1; do
  n=$((n + 1))
  if [ "$n" -ge 150 ]; then echo "peer: VLAN 100: no answer in $n tries"; echo "peer: done"; exec sleep 100000; fi
  sleep 1
done
echo "peer: VLAN 100: $target answered"
quiet=yes
for i in 1 2 3; do ping6 -c 1 -W 1 -I eth0.200 "$target%eth0.200" >/dev/null 2>&1 && quiet=no; done
if [ "$quiet" = yes ]; then echo "peer: VLAN 200: no answer in 3 tries"; else echo "peer: VLAN 200: answered"; fi
echo "peer: done"
while true; do sleep 60; done
INIT
} >"$root/init"
chmod 755 "$root/init"
(cd "$root" && find . -exec touch -h -d @0 {} + && find . | LC_ALL=C sort | busybox cpio -o -H newc 2>/dev/null | gzip -n -9) \
  >"$out/peer-initrd.img"
rm -rf "$root"
echo "$out/peer-initrd.img"
