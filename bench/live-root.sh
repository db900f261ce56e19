#!/usr/bin/env bash
# Benchmark: how to build the installer ISO's live root, measured in one run.
#   A. today's way: `slipway build iso` copies programs of the build machine
#      and every library they need (the ELF walker, builder/elf_deps.cc) into
#      /live on the ISO, under stage 1's RAM overlay;
#   B. the Debian Live / Talos / Harvester way: a root from Debian packages
#      (mmdebstrap, the same package set as the programs in A), packed as a
#      squashfs image (xz), built twice with SOURCE_DATE_EPOCH to check that
#      it is byte-reproducible.
# Prints build time, size and reproducibility for both. Boot-to-installer
# time for B is not measured: stage 1 cannot mount a squashfs root yet.
#   bench/live-root.sh     (SOURCE_DATE_EPOCH pins mksquashfs times, as mmdebstrap honours it)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mksquashfs >/dev/null || sudo apt-get install -y -q squashfs-tools >/dev/null
build=$(cd build && pwd)
tmp=$(mktemp -d /tmp/slipway-live-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000
kernel=$(bash tests/boot/fetch-kernel.sh "$build/boot-cache")
now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$2 - $1" | bc)"; }

# A: the ELF walker (twice: the second build's hash must equal the first's).
t0=$(now)
"$build/cli/slipway" build iso images/installer.toml --kernel "$kernel" --out "$tmp/a1.iso" >/dev/null
t1=$(now)
"$build/cli/slipway" build iso images/installer.toml --kernel "$kernel" --out "$tmp/a2.iso" >/dev/null
a_same=$([ "$(sha256sum <"$tmp/a1.iso")" = "$(sha256sum <"$tmp/a2.iso")" ] && echo yes || echo NO)
a_size=$(stat -c %s "$tmp/a1.iso")
a_live=$(xorriso -indev "$tmp/a1.iso" -find /live -type f -exec lsdl 2>/dev/null | awk '{s+=$5} END {print s}')

# B: mmdebstrap + squashfs, the packages that hold A's programs and files.
pkgs=systemd,dbus,busybox,libvirt-daemon,libvirt-daemon-driver-qemu,qemu-system-x86,qemu-utils,ovmf,seabios,ipxe-qemu,dnsmasq-base,iptables,iproute2,swtpm
b_build() {
  local out=$1 root=$1.root t
  t=$(now)
  mmdebstrap --variant=minbase --mode=auto --format=directory --include="$pkgs" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    bookworm "$root" >"$tmp/mmdebstrap.log" 2>&1 || { tail -5 "$tmp/mmdebstrap.log" >&2; exit 1; }
  local t_strap
  t_strap=$(now)
  mksquashfs "$root" "$out" -comp xz -noappend -all-root \
    -quiet -no-progress >/dev/null
  local t_sq
  t_sq=$(now)
  local size
  size=$(du -sb "$root" | cut -f1)
  rm -rf "$root"
  echo "$(secs "$t" "$t_strap") $(secs "$t_strap" "$t_sq") $size"
}
read -r b_strap b_squash b_tree < <(b_build "$tmp/b1.squashfs")
read -r b_strap2 b_squash2 _ < <(b_build "$tmp/b2.squashfs")
b_same=$([ "$(sha256sum <"$tmp/b1.squashfs")" = "$(sha256sum <"$tmp/b2.squashfs")" ] && echo yes || echo NO)
b_size=$(stat -c %s "$tmp/b1.squashfs")

mib() { echo $(($1 / 1048576)); }
printf '%-42s %12s %14s %14s %12s\n' "live root" "build (s)" "on the ISO" "unpacked" "reproducible"
printf '%-42s %12s %11s MiB %11s MiB %12s\n' "A: ELF walker, /live tree (whole ISO)" "$(secs "$t0" "$t1")" \
  "$(mib "$a_size")" "$(mib "$a_live")" "$a_same"
printf '%-42s %12s %11s MiB %11s MiB %12s\n' "B: mmdebstrap + squashfs xz (squashfs)" "$b_strap+$b_squash" \
  "$(mib "$b_size")" "$(mib "$b_tree")" "$b_same"
echo "(B second build: $b_strap2 s mmdebstrap + $b_squash2 s squashfs)"
