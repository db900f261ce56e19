#!/usr/bin/env bash
# Benchmark: plan computation from 8 hosts x 200 VMs to 64 hosts x 2,000 VMs.
#   bench/plan.sh [RUNS]   (builds bench_plan first)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target bench_plan -j "$(nproc)" >/dev/null
build/bench/bench_plan "${1:-5}"
