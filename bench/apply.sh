#!/usr/bin/env bash
# Benchmark: `slipway apply` of plans with about 10, 100 and 1,000 VMs against
# libvirt's in-process test driver; prints the time per VM to show the growth.
#   bench/apply.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target bench_plan slipway -j "$(nproc)" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%8s %12s %12s %10s\n' VMs steps "apply ms" "ms per VM"
for n in 10 100 1000; do
  vms=$(build/bench/bench_plan --emit $n "$tmp/plan-$n.json")
  t0=${EPOCHREALTIME/./}
  build/cli/slipway apply "$tmp/plan-$n.json" --connect test:///default --state "$tmp/state-$n" \
    --storage-root "$tmp/root-$n" >"$tmp/out-$n"
  t1=${EPOCHREALTIME/./}
  steps=$(grep -c '^\[' "$tmp/out-$n")
  awk -v v="$vms" -v s="$steps" -v us=$((t1 - t0)) 'BEGIN {printf "%8d %12d %12.1f %10.2f\n", v, s, us / 1000, us / 1000 / v}'
done
