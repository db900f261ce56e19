#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer targets of fuzz/ with clang, ASan and UBSan in
# build-fuzz/, then runs each for EXECS executions (default 1,000,000), seeded
# from the bundled profiles, images, firmware catalogue, test fixtures and
# fuzz/seeds/ (FUZZ_SECONDS=N stops each target after N seconds at most). Prints, per target: executions, crashes, coverage (libFuzzer's
# cov: edges and ft: features) and seconds. Exits 1 when any target crashed;
# crash inputs are kept in build-fuzz/crashes/<target>/.
#
#   bench/fuzz.sh [EXECS]            run every target EXECS times
#   FUZZ_SECONDS=5 bench/fuzz.sh     stop each target after 5 s at most (CI)
#   FUZZ_TARGETS="fuzz_plan" ...     only these targets
set -euo pipefail
cd "$(dirname "$0")/.."
EXECS=${1:-1000000}
BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${JOBS:-2}

mkdir -p "$BUILD"
# -O1 -gline-tables-only, as OSS-Fuzz builds: line numbers in crash stacks,
# and a build about a third faster than -O2 -g.
cmake -S . -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DSLIPWAY_FUZZ=ON \
  -DBUILD_TESTING=OFF >"$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" -j "$JOBS" --target fuzz_all >"$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log"; exit 1; }

# Seeds per target: the files the reader really sees.
seeds() {
  case "$1" in
    fuzz_toml_hardware) ls profiles/hardware/*.toml ;;
    fuzz_toml_cluster) ls profiles/clusters/*.toml tests/fixtures/boot/lab-ha.toml; grep -l 'kind = "cluster"' tests/fixtures/profiles/bad/*.toml ;;
    fuzz_toml_fleet | fuzz_answer) ls profiles/fleet/*.toml tests/fixtures/boot/e2e-fleet.toml; grep -l 'kind = "fleet"' tests/fixtures/profiles/bad/*.toml ;;
    fuzz_toml_vm-sizes) ls profiles/vm-sizes.toml ;;
    fuzz_toml_image) ls images/*.toml ;;
    fuzz_toml_firmware) ls firmware/firmware.toml ;;
    fuzz_toml_kubernetes-bundle) ls fuzz/seeds/kubernetes-bundle/* ;;
    fuzz_plan) ls fuzz/seeds/plan/* tests/fixtures/fuzz/plan-* ;;
    fuzz_journal) ls fuzz/seeds/journal/* tests/fixtures/fuzz/journal-* ;;
    fuzz_escape) ls fuzz/seeds/escape/* ;;
    fuzz_servicelist) ls tests/fixtures/lb/*.json ;;
  esac
}

TARGETS=${FUZZ_TARGETS:-"fuzz_toml_hardware fuzz_toml_cluster fuzz_toml_fleet fuzz_toml_vm-sizes fuzz_toml_image
  fuzz_toml_firmware fuzz_toml_kubernetes-bundle fuzz_plan fuzz_journal fuzz_answer fuzz_escape fuzz_servicelist"}
# Fuzz artifacts and logs stay in the build folder (the journal target
# writes its journal under /tmp).
failed=0
printf '%-28s %12s %8s %8s %8s %8s\n' target execs crashes cov ft seconds
for t in $TARGETS; do
  corpus="$BUILD/corpus/$t" crashes="$BUILD/crashes/$t" log="$BUILD/logs/$t.log"
  # Crash inputs of the last run only (earlier ones: keep them as regression tests).
  rm -rf "$crashes"
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  for f in $(seeds "$t"); do cp -f "$f" "$corpus/seed-$(basename "$f")"; done
  limit=(-runs="$EXECS")
  [ -n "${FUZZ_SECONDS:-}" ] && limit+=(-max_total_time="$FUZZ_SECONDS")
  max_len=8192
  [ "$t" = fuzz_plan ] && max_len=65536
  start=$(date +%s)
  rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$BUILD/fuzz/$t" "${limit[@]}" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1 || rc=$?
  secs=$(($(date +%s) - start))
  # A target that dies before its first report (for example in a library's
  # load-time constructor) has no stats: it still gets its row and fails.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  n=$(find "$crashes" -type f | wc -l)
  [ "$rc" -ne 0 ] && [ "$n" -eq 0 ] && n=1  # a crash libFuzzer could not save still counts
  printf '%-28s %12s %8s %8s %8s %8s\n' "$t" "${execs:-?}" "$n" "${cov:-?}" "${ft:-?}" "$secs"
  if [ "$n" -ne 0 ]; then
    failed=1
    grep -m3 -E 'ERROR|SUMMARY|runtime error' "$log" | sed 's/^/    /' || true
    echo "    log: $log; crash inputs: $crashes/"
  fi
done
exit $failed
