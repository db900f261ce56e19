#!/usr/bin/env bash
# Disk-stage timing on one prepared rootfs tree, in one run:
#   1. slipway build image --rootfs TREE (copy + hardening + agent + disk + qcow2);
#   2. the raw pipeline: truncate + parted + mkfs.vfat + mcopy + mkfs.ext4 -d +
#      dd + qemu-img convert (disk only, no hardening);
#   3. mkosi (Debian's mkosi 14) from the same tree, where it can.
# Prints the times and the ratio slipway / raw (target <= 1.15).
#   bench/image.sh [TREE]   default: the real Debian 12 node rootfs, i.e. the
#   mmdebstrap tarball of images/linux-node.toml from build/image-cache
#   (built there by `slipway build image` on first use, as the boot tests do),
#   extracted once. `bench/image.sh build/boot-test/rootfs` times the tiny
#   boot-test tree, where fixed costs (hashing a 1 GiB image) dominate.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=${1:-}
if [ -z "$tree" ]; then
  cache=build/image-cache
  tar="$cache/$(sha256sum images/linux-node.toml | cut -d' ' -f1).tar"
  if [ ! -f "$tar" ]; then
    echo "bootstrapping the node rootfs into $cache (mmdebstrap, once)..." >&2
    build/cli/slipway build image images/linux-node.toml --out build/bench-node --cache "$cache" >/dev/null
  fi
  tree=build/bench-node-tree
  if [ ! -d "$tree" ]; then
    mkdir -p "$tree.tmp" && tar -xf "$tar" -C "$tree.tmp" 2>/dev/null && mv "$tree.tmp" "$tree"
  fi
fi
[ -d "$tree" ] || { echo "no tree at $tree" >&2; exit 2; }
command -v parted >/dev/null || apt-get install -y -qq parted >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kernel=$(ls "$tree"/boot/vmlinuz* | head -n1) initrd=$(ls "$tree"/boot/initrd.img* | head -n1)
size_gib=$(( ($(du -sm "$tree" | cut -f1) * 2 / 1024) + 1 ))
cat >"$tmp/bench.toml" <<TOML
name = "bench"
role = "linux-node"
[rootfs]
source = "directory"
path = "unused"
[disk]
size_gib = $size_gib
esp_mib = 128
boot = ["uefi", "bios"]
[hardening]
steps = []
TOML
now() { echo "${EPOCHREALTIME/./}"; }
runs=3
s_total=0 r_total=0
for i in $(seq 1 $runs); do
  t0=$(now)
  build/cli/slipway build image "$tmp/bench.toml" --rootfs "$tree" --out "$tmp/s$i" >/dev/null
  t1=$(now)
  img="$tmp/raw$i.img"
  truncate -s ${size_gib}G "$img"
  parted -s "$img" mklabel gpt mkpart ESP fat32 1MiB 129MiB set 1 esp on mkpart root ext4 129MiB 100% 2>/dev/null
  truncate -s 128M "$tmp/esp$i.img"
  mkfs.vfat -F 32 -n ESP "$tmp/esp$i.img" >/dev/null
  MTOOLS_SKIP_CHECK=1 mmd -i "$tmp/esp$i.img" ::/EFI ::/EFI/BOOT
  MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/esp$i.img" /usr/lib/shim/shimx64.efi.signed ::/EFI/BOOT/BOOTX64.EFI
  MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/esp$i.img" /usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed ::/EFI/BOOT/grubx64.efi
  MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/esp$i.img" "$kernel" ::/vmlinuz
  MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/esp$i.img" "$initrd" ::/initrd.img
  rootsize=$(( size_gib * 1024 - 130 ))
  mkfs.ext4 -q -F -L root -d "$tree" "$tmp/root$i.img" ${rootsize}M
  dd if="$tmp/esp$i.img" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$tmp/root$i.img" of="$img" bs=1M seek=129 conv=notrunc,sparse status=none
  qemu-img convert -f raw -O qcow2 "$img" "$tmp/raw$i.qcow2"
  t2=$(now)
  s_total=$((s_total + t1 - t0)) r_total=$((r_total + t2 - t1))
  rm -rf "$tmp/s$i" "$img" "$tmp/esp$i.img" "$tmp/root$i.img" "$tmp/raw$i.qcow2"
done
echo "tree: $tree ($(du -sh "$tree" | cut -f1)), disk ${size_gib} GiB, $runs runs each, alternating"
awk -v s=$s_total -v r=$r_total -v n=$runs 'BEGIN {
  printf "slipway build image:  %8.2f s\nraw pipeline:         %8.2f s\nratio slipway/raw:    %8.2f (target <= 1.15)\n",
    s / n / 1e6, r / n / 1e6, s / r }'
if command -v mkosi >/dev/null; then
  # Tried: `mkosi -d debian --base-image TREE --format gpt_ext4` is mkosi 14's
  # only way to start from a tree (an overlay, sysext-style); it then runs its
  # cleanup steps in systemd-nspawn, which fails without systemd as PID 1
  # ("Failed to open system bus"). Without --base-image it debootstraps.
  echo "mkosi: not compared (mkosi 14 starts from a tree only with --base-image, whose nspawn steps need systemd as PID 1)"
fi
