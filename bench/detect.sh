#!/usr/bin/env bash
# Benchmark: `slipway detect --json` against Debian's `lshw -json` on this
# machine, alternating runs, median wall time of each and the ratio. Also
# checks that both found the same disks, NICs and memory.
#   bench/detect.sh [RUNS]   (default 15; run after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}
SLIPWAY=${SLIPWAY:-build/cli/slipway}
[ -x "$SLIPWAY" ] || { echo "build first: make build" >&2; exit 2; }
for tool in lshw jq; do
  command -v $tool >/dev/null || { echo "installing $tool"; apt-get install -y -qq $tool >/dev/null; }
done

# $EPOCHREALTIME (bash 5) costs no fork, unlike $(date), so it adds nothing to either side.
ns() { local t=${EPOCHREALTIME/./}; echo $((10#$t * 1000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >/tmp/slipway-bench-ours; : >/tmp/slipway-bench-lshw; : >/tmp/slipway-bench-true
for ((i = 0; i < RUNS; i++)); do
  t0=$(ns); /bin/true; t1=$(ns); echo $(((t1 - t0) / 1000)) >>/tmp/slipway-bench-true
  t0=$(ns); "$SLIPWAY" detect --json >/tmp/slipway-detect.json; t1=$(ns)
  lshw -json >/tmp/slipway-lshw.json 2>/dev/null; t2=$(ns)
  echo $(((t1 - t0) / 1000)) >>/tmp/slipway-bench-ours
  echo $(((t2 - t1) / 1000)) >>/tmp/slipway-bench-lshw
done
ours=$(median </tmp/slipway-bench-ours)
peer=$(median </tmp/slipway-bench-lshw)
floor=$(median </tmp/slipway-bench-true)

# Agreement: disks with a /dev node, physical NICs, memory.
our_disks=$(jq '.disks | length' /tmp/slipway-detect.json)
lshw_disks=$(jq '[.. | objects | select(.class=="disk") | .logicalname | if type=="array" then .[0] else . end
                 | select(type=="string" and startswith("/dev/"))] | length' /tmp/slipway-lshw.json)
our_nics=$(jq '[.nics[] | select(.physical)] | length' /tmp/slipway-detect.json)
lshw_nics=$(jq '[.. | objects | select(.class=="network" and .logicalname != null)] | length' /tmp/slipway-lshw.json)
our_mem=$(jq '.memory_bytes' /tmp/slipway-detect.json)
lshw_mem=$(jq '[.. | objects | select(.class=="memory" and .id=="memory") | .size] | first' /tmp/slipway-lshw.json)

echo "runs:            $RUNS each, alternating"
echo "slipway detect:  median $((ours / 1000)).$(printf '%03d' $((ours % 1000))) ms"
echo "lshw -json:      median $((peer / 1000)).$(printf '%03d' $((peer % 1000))) ms"
echo "/bin/true:       median $((floor / 1000)).$(printf '%03d' $((floor % 1000))) ms (the cost of starting any process here)"
awk -v a="$peer" -v b="$ours" 'BEGIN {printf "ratio:           slipway is %.1fx faster than lshw (target >= 20x)\n", a / b}'
echo "disks:           slipway $our_disks, lshw $lshw_disks $([ "$our_disks" = "$lshw_disks" ] && echo OK || echo MISMATCH)"
echo "physical NICs:   slipway $our_nics, lshw $lshw_nics $([ "$our_nics" = "$lshw_nics" ] && echo OK || echo MISMATCH)"
awk -v a="$our_mem" -v b="$lshw_mem" 'BEGIN {
  d = (a > b ? a - b : b - a) / b * 100
  printf "memory:          slipway %.2f GiB (MemTotal), lshw %.2f GiB: %.1f%% apart %s\n", a / 2^30, b / 2^30, d,
         (d <= 1 ? "OK" : "(lshw counts installed RAM, Slipway the kernel-usable MemTotal)")
}'
