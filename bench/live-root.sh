#!/usr/bin/env bash
# Benchmark: how to build the installer ISO's live root, measured in one run.
#   A. today's way: `slipway build iso` copies programs of the build machine
#      and every library they need (the ELF walker, builder/elf_deps.cc) into
#      /live on the ISO, under stage 1's RAM overlay;
#   B. the Debian Live / Talos / Harvester way: a root from Debian packages
#      (mmdebstrap: the packages that hold A's programs, plus the libraries
#      slipway links), with Slipway's own files taken from A's /live (its
#      binaries, units, D-Bus policy, profiles, libvirt and systemd
#      configuration), packed as one squashfs image (xz) that stage 1 mounts
#      from /live.squashfs on the medium. Built twice with SOURCE_DATE_EPOCH
#      to check that it is byte-reproducible.
# Prints build time, size and reproducibility for both. With --boot N it also
# boots each ISO N times, alternating, in QEMU (TCG, 2 vCPUs, 4 GiB, the
# end-to-end test's machine: two data disks, a CSV, the answer file's MAC;
# the kernel and initramfs given to QEMU directly, so that firmware and boot
# loader are out of the figure) and prints the seconds from QEMU's start to
# stage 1's first line, to the installer's first phase (== Discover) and to
# its report (result: ok; the apply goes to libvirt's test driver).
#   bench/live-root.sh [--boot N]
set -euo pipefail
cd "$(dirname "$0")/.."
boots=0
if [ "${1:-}" = --boot ]; then boots=${2:-2}; fi
if ! command -v mksquashfs >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q squashfs-tools >/dev/null; else sudo apt-get install -y -q squashfs-tools >/dev/null; fi
fi
build=$(cd build && pwd)
tmp=$(mktemp -d /tmp/slipway-live-bench-XXXXXX)
trap 'pkill -f "$tmp/" 2>/dev/null || true; rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000
kernel=$(bash tests/boot/fetch-kernel.sh "$build/boot-cache")
now() { date +%s.%N; }
secs() { printf '%.1f' "$(echo "$2 - $1" | bc)"; }

# A: the ELF walker (twice: the second build's hash must equal the first's).
# Without the host system (the live root only), with the end-to-end answer
# file and a stand-in node image, as tests/integration/installer_iso_boot_test.cc.
sed 's/^host_system = true/host_system = false/' images/installer.toml >"$tmp/installer.toml"
mkdir -p "$tmp/images"
qemu-img create -q -f qcow2 "$tmp/images/linux-node.qcow2" 1G
iso_args=(--kernel "$kernel" --answer tests/fixtures/boot/e2e-fleet.toml --images "$tmp/images")
t0=$(now)
"$build/cli/slipway" build iso "$tmp/installer.toml" "${iso_args[@]}" --out "$tmp/a1.iso" >/dev/null
t1=$(now)
"$build/cli/slipway" build iso "$tmp/installer.toml" "${iso_args[@]}" --out "$tmp/a2.iso" >/dev/null
a_same=$([ "$(sha256sum <"$tmp/a1.iso")" = "$(sha256sum <"$tmp/a2.iso")" ] && echo yes || echo NO)
a_size=$(stat -c %s "$tmp/a1.iso")
a_live=$(xorriso -indev "$tmp/a1.iso" -find /live -type f -exec lsdl 2>/dev/null | awk '{s+=$5} END {print s}')

# Slipway's own files in A's live root: what no Debian package holds.
own="$tmp/own"
mkdir -p "$own"
for f in usr/bin/slipway usr/bin/slipway-installer usr/lib/systemd/system/slipway-installer.service \
  usr/lib/systemd/system/libvirtd.service usr/lib/systemd/system/virtlogd.service \
  usr/share/dbus-1/system.d/org.slipway.Installer1.conf usr/share/slipway etc/libvirt/libvirtd.conf \
  etc/libvirt/qemu.conf etc/libvirt/virtlogd.conf etc/systemd/system/dbus.service.d etc/systemd/system.conf.d; do
  mkdir -p "$own/$(dirname "$f")"
  xorriso -osirrox on -indev "$tmp/a1.iso" -extract "/live/$f" "$own/$f" >/dev/null 2>&1
done

# B: mmdebstrap + Slipway's files + squashfs.
pkgs=systemd,dbus,busybox,libvirt-daemon,libvirt-daemon-driver-qemu,qemu-system-x86,qemu-utils,ovmf,seabios
pkgs+=,ipxe-qemu,dnsmasq-base,iptables,iproute2,swtpm,swtpm-tools,gnutls-bin,e2fsprogs,openssh-client
# The libraries slipway and slipway-installer link (ldd), by package.
pkgs+=,$(ldd "$build/cli/slipway" "$build/cli/slipway-installer" | awk '/=>/ {print $3}' | sort -u |
  xargs -n1 readlink -f | { xargs dpkg -S 2>/dev/null || true; } | cut -d: -f1 | sort -u | paste -sd,)
b_build() {
  local out=$1 root=$1.root t
  t=$(now)
  # Our units in /etc override Debian's (libvirtd without socket activation,
  # as in A); the console belongs to the installer, as in A.
  mmdebstrap --variant=minbase --mode=auto --format=directory --include="$pkgs" \
    --customize-hook="cp -a $own/. \"\$1\"/" \
    --customize-hook='set -e; s="$1"/etc/systemd/system
      for u in slipway-installer libvirtd virtlogd; do
        mv "$1"/usr/lib/systemd/system/$u.service "$s"/$u.service 2>/dev/null || true
        [ -f "$s/$u.service" ] || cp "$1"/usr/lib/systemd/system/$u.service "$s"/
        mkdir -p "$s"/multi-user.target.wants; ln -sf ../$u.service "$s"/multi-user.target.wants/$u.service
      done
      for m in libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket virtlogd.socket virtlogd-admin.socket \
        serial-getty@ttyS0.service getty@tty1.service; do ln -sf /dev/null "$s/$m"; done
      ln -sf /usr/lib/systemd/system/multi-user.target "$s"/default.target' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    bookworm "$root" >"$tmp/mmdebstrap.log" 2>&1 || {
    tail -5 "$tmp/mmdebstrap.log" >&2
    exit 1
  }
  local t_strap t_sq size
  t_strap=$(now)
  mksquashfs "$root" "$out" -comp xz -noappend -quiet -no-progress >/dev/null
  t_sq=$(now)
  size=$(du -sb "$root" | cut -f1)
  rm -rf "$root"
  echo "$(secs "$t" "$t_strap") $(secs "$t_strap" "$t_sq") $size"
}
read -r b_strap b_squash b_tree < <(b_build "$tmp/b1.squashfs")
read -r b_strap2 b_squash2 _ < <(b_build "$tmp/b2.squashfs")
b_same=$([ "$(sha256sum <"$tmp/b1.squashfs")" = "$(sha256sum <"$tmp/b2.squashfs")" ] && echo yes || echo NO)
b_size=$(stat -c %s "$tmp/b1.squashfs")
# B's ISO: A's medium with live.squashfs in place of the /live tree.
mkdir -p "$tmp/bstage"
xorriso -osirrox on -indev "$tmp/a1.iso" -extract / "$tmp/bstage" >/dev/null 2>&1
chmod -R u+w "$tmp/bstage"
rm -rf "$tmp/bstage/live"
cp "$tmp/b1.squashfs" "$tmp/bstage/live.squashfs"
xorriso -as mkisofs -quiet -R -J -V SLIPWAY -o "$tmp/b.iso" "$tmp/bstage" >/dev/null 2>&1
b_iso=$(stat -c %s "$tmp/b.iso")

mib() { echo $(($1 / 1048576)); }
printf '%-44s %12s %14s %14s %12s\n' "live root" "build (s)" "on the ISO" "unpacked" "reproducible"
printf '%-44s %12s %11s MiB %11s MiB %12s\n' "A: ELF walker, /live tree (whole ISO)" "$(secs "$t0" "$t1")" \
  "$(mib "$a_size")" "$(mib "$a_live")" "$a_same"
printf '%-44s %12s %11s MiB %11s MiB %12s\n' "B: mmdebstrap + squashfs xz (whole ISO)" "$b_strap+$b_squash" \
  "$(mib "$b_iso")" "$(mib "$b_tree")" "$b_same"
echo "(B second build: $b_strap2 s mmdebstrap + $b_squash2 s squashfs; the squashfs alone $(mib "$b_size") MiB)"
[ "$boots" -gt 0 ] || exit 0

# Boots: the kernel and initramfs of A's ISO (the same stage 1 for both).
xorriso -osirrox on -indev "$tmp/a1.iso" -extract /boot/vmlinuz "$tmp/vmlinuz" \
  -extract /boot/initrd.img "$tmp/initrd.img" >/dev/null 2>&1
boot_once() { # ISO -> "stage1 discover result" seconds (or "- - -")
  local iso=$1 d="$tmp/m" t s1=- s2=- s3=- now_s
  rm -rf "$d" && mkdir -p "$d"
  qemu-img create -q -f qcow2 "$d/d1.qcow2" 16G
  qemu-img create -q -f qcow2 "$d/d2.qcow2" 16G
  truncate -s 64G "$d/csv.img"
  mkfs.ext4 -q -F -L CSV1 -E lazy_itable_init=1,lazy_journal_init=1 "$d/csv.img"
  t=$(now)
  qemu-system-x86_64 -accel tcg -m 4096 -smp 2 -nographic -no-reboot -monitor none -machine pc \
    -serial "file:$d/console.log" -kernel "$tmp/vmlinuz" -initrd "$tmp/initrd.img" \
    -append "console=ttyS0,115200 slipway.mode=auto" -cdrom "$iso" \
    -drive "file=$d/d1.qcow2,if=virtio" -drive "file=$d/d2.qcow2,if=virtio" \
    -drive "file=$d/csv.img,if=virtio,format=raw" \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:5e:00:01 \
    -netdev user,id=n1 -device virtio-net-pci,netdev=n1,mac=52:54:00:5e:00:02 \
    -uuid 5e1f0a5e-0000-4000-8000-00005e000001 >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 1200); do
    sleep 0.25
    now_s=$(secs "$t" "$(now)")
    [ "$s1" != - ] || ! grep -aq "slipway-live: stage 1" "$d/console.log" 2>/dev/null || s1=$now_s
    [ "$s2" != - ] || ! grep -aq "== Discover" "$d/console.log" 2>/dev/null || s2=$now_s
    if grep -aq "result:   " "$d/console.log" 2>/dev/null; then
      grep -aq "result:   ok" "$d/console.log" && s3=$now_s
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$s3" = - ]; then cp "$d/console.log" "$build/live-root-bench-$(basename "$iso").console.log"; fi
  echo "$s1 $s2 $s3"
}
printf '\n%-8s %-4s %14s %18s %16s\n' "run" "root" "stage 1 (s)" "installer (s)" "report (s)"
for n in $(seq 1 "$boots"); do
  for r in a b; do
    iso="$tmp/$r.iso"
    [ "$r" = a ] && iso="$tmp/a1.iso"
    read -r s1 s2 s3 < <(boot_once "$iso")
    printf '%-8s %-4s %14s %18s %16s\n' "$n" "${r^^}" "$s1" "$s2" "$s3"
  done
done
echo "(seconds from QEMU's start; '-': not reached, the console is kept in build/live-root-bench-*.console.log)"
