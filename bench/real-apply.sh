#!/usr/bin/env bash
# Benchmark: apply on libvirt's QEMU driver next to the test driver, in one run.
#   1. define+start per VM, for plans of 5 and 20 VMs (no node images, so the
#      guests sit in SeaBIOS: this measures libvirt and Slipway, not booting),
#      through a private libvirtd serving the test driver (.ci/libvirtd) and
#      one serving the QEMU driver (.ci/qemu-libvirtd), both over the same RPC;
#   2. with --boot: the management cluster plus tests/fixtures/boot/real-ha.toml
#      (6 VMs) from the full node and load-balancer images (built as
#      .ci/demo-real-vms builds them): apply start to all domains started,
#      then all domains started to every VM's ready marker (TCG).
#   bench/real-apply.sh [--boot]
set -euo pipefail
cd "$(dirname "$0")/.."
boot=${1:-}
cmake --build build --target bench_plan slipway -j "$(nproc)" >/dev/null
build=$(cd build && pwd)
tmp=$(mktemp -d /tmp/slipway-bench-XXXXXX)
chmod 0711 "$tmp"
export SLIPWAY_LIBVIRT_CACHE="$build/libvirt-qemu-cache"
cleanup() {
  .ci/qemu-libvirtd stop "$tmp/qemu" 2>/dev/null || true
  .ci/libvirtd stop "$tmp/test" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
qemu_uri=$(.ci/qemu-libvirtd start "$tmp/qemu")
test_uri=$(.ci/libvirtd start "$tmp/test")
virsh -c "$qemu_uri" domcapabilities >/dev/null 2>&1 || true # warm the capability cache outside the timing

# apply --json with each event stamped on arrival; prints
# "total_ms domain_define_ms domain_start_ms VMs"
timed_apply() {
  local uri=$1 plan=$2 state=$3 root=$4
  shift 4
  mkdir -p "$root"
  chmod 0711 "$root"
  local t0=${EPOCHREALTIME/./} prev def=0 start=0 vms=0
  prev=$t0
  while read -r line; do
    now=${EPOCHREALTIME/./}
    case "$line" in
      *'"kind":"domain"'*) def=$((def + now - prev)) vms=$((vms + 1)) ;;
      *'"kind":"start"'*) start=$((start + now - prev)) ;;
    esac
    prev=$now
  done < <(build/cli/slipway apply "$plan" --connect "$uri" --state "$state" --storage-root "$root" --json "$@")
  echo "$(((prev - t0) / 1000)) $((def / 1000)) $((start / 1000)) $vms"
}

echo "== define+start per VM (plans of N VMs, no images; ms)"
printf '%-7s %5s %10s %14s %14s %14s\n' driver VMs "apply ms" "define ms/VM" "start ms/VM" "destroy ms"
for n in 5 20; do
  build/bench/bench_plan --emit "$n" "$tmp/plan-$n.json" >/dev/null
  for d in test qemu; do
    uri=$test_uri
    [ $d = qemu ] && uri=$qemu_uri
    read -r total def start vms < <(timed_apply "$uri" "$tmp/plan-$n.json" "$tmp/state-$d-$n" "$tmp/root-$d-$n")
    t0=${EPOCHREALTIME/./}
    build/cli/slipway destroy --all --connect "$uri" --state "$tmp/state-$d-$n" --storage-root "$tmp/root-$d-$n" >/dev/null
    t1=${EPOCHREALTIME/./}
    awk -v d=$d -v v="$vms" -v t="$total" -v a="$def" -v s="$start" -v x=$(((t1 - t0) / 1000)) \
      'BEGIN { printf "%-7s %5d %10d %14.1f %14.1f %14d\n", d, v, t, a / v, s / v, x }'
  done
done

[ "$boot" = "--boot" ] || exit 0
echo
echo "== 6 VMs from the full images (management + real-ha), TCG"
images="$build/demo-images" slipway="$build/cli/slipway"
# shellcheck source=../.ci/node-images.sh
source .ci/node-images.sh
for name in linux-node loadbalancer; do
  build_image $name
  mkdir -p "$tmp/images" && ln -sf "$images/$name/$name.qcow2" "$tmp/images/$name.qcow2"
done
lab=tests/fixtures/hosts/lab-csv
build/cli/slipway plan --sysroot $lab --fs-usage $lab/statvfs.json --profile smoke \
  --cluster tests/fixtures/boot/real-ha.toml --out "$tmp/boot-plan.json" >/dev/null
for d in test qemu; do
  uri=$test_uri
  [ $d = qemu ] && uri=$qemu_uri
  read -r total _ _ vms < <(timed_apply "$uri" "$tmp/boot-plan.json" "$tmp/boot-$d" "$tmp/boot-root-$d" --images "$tmp/images")
  echo "$d driver: apply start to all $vms domains started: $total ms (base images uploaded included)"
done
t0=$(date +%s)
names=$(virsh -c "$qemu_uri" list --name | grep -v '^$')
# Every VM is checked each second, so each one's time is its own.
declare -A ready=()
while [ ${#ready[@]} -lt $(echo "$names" | wc -w) ] && [ $(($(date +%s) - t0)) -lt 900 ]; do
  for vm in $names; do
    [ -z "${ready[$vm]:-}" ] || continue
    if grep -q "slipway-node-ready $vm" "$tmp/boot-qemu/console/$vm.log" 2>/dev/null; then
      ready[$vm]=$(($(date +%s) - t0))
      echo "$vm ready ${ready[$vm]} s after all domains started"
    fi
  done
  sleep 1
done
for vm in $names; do [ -n "${ready[$vm]:-}" ] || echo "$vm: not ready after 900 s"; done
echo "qemu driver: all domains started to all VMs ready: $(($(date +%s) - t0)) s (the test driver boots nothing)"
