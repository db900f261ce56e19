#!/usr/bin/env bash
# The installer ISO writer against xorriso (-as mkisofs, Rock Ridge + Joliet)
# and a plain cat of the payload (one pass over the data: the physical limit),
# on the same 1 GiB payload of 8 files, alternating, several runs.
#   bench/iso.sh [RUNS]
# Slipway writes the ISO with --boot (Debian's kernel, fetched like the boot
# tests do, and a stand-in initramfs), so both writers pack the same payload
# and the live system (built in about 1.5 s) is not part of the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
tmp=$(mktemp -d /var/tmp/slipway-iso-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
kernel=$(bash tests/boot/fetch-kernel.sh build/boot-cache)
boot=$tmp/boot
mkdir -p "$boot"
cp "$(ls "$kernel"/boot/vmlinuz-* | head -n 1)" "$boot/vmlinuz"
head -c 4M /dev/urandom | gzip -n >"$boot/initrd.img"
mkdir -p "$tmp/payload"
for i in $(seq 1 8); do head -c 128M /dev/urandom >"$tmp/payload/image$i.qcow2"; done
sync
now() { echo "${EPOCHREALTIME/./}"; }
s=0 x=0 c=0
for r in $(seq 1 "$runs"); do
  t0=$(now); build/cli/slipway build iso images/installer.toml --out "$tmp/s.iso" --boot "$boot" --images "$tmp/payload" >/dev/null
  t1=$(now); xorriso -as mkisofs -quiet -R -J -V SLIPWAY -o "$tmp/x.iso" "$tmp/payload" 2>/dev/null
  t2=$(now); cat "$tmp"/payload/* >"$tmp/cat.bin"
  t3=$(now)
  s=$((s + t1 - t0)) x=$((x + t2 - t1)) c=$((c + t3 - t2))
  ss=$(stat -c %s "$tmp/s.iso") xs=$(stat -c %s "$tmp/x.iso")
  rm -f "$tmp/s.iso" "$tmp/x.iso" "$tmp/cat.bin"
done
awk -v s=$s -v x=$x -v c=$c -v n=$runs -v ss=$ss -v xs=$xs 'BEGIN {
  printf "payload: 1 GiB in 8 files, %d runs each, alternating\n", n
  printf "slipway build iso:  %6.2f s  (%d bytes)\n", s/n/1e6, ss
  printf "xorriso -as mkisofs:%6.2f s  (%d bytes)\n", x/n/1e6, xs
  printf "cat of the payload: %6.2f s\n", c/n/1e6
  printf "slipway / xorriso:  %6.2f  (target <= 1.0)\nslipway / cat:      %6.2f  (target <= 1.3)\n", s/x, s/c }'
