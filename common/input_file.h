// Bounded reading of input files (profiles, answer files, plans, journals,
// reports): only regular files, and never more than a cap, so that
// `slipway check /dev/zero` or a runaway file fails at once with exit 2
// instead of eating memory.
#pragma once

#include <cstdint>
#include <string>

#include "common/error.h"

namespace slipway {

/// Cap for hand-written TOML files (profiles, fleet and answer files, image
/// definitions, the firmware catalogue). The biggest bundled one is ~10 KiB.
inline constexpr uint64_t kMaxTomlBytes = 4ull << 20;
/// Cap for machine-written JSON files (plans, hardware reports, install
/// reports, journals). A 64-host x 2,000-VM plan is well under this.
inline constexpr uint64_t kMaxJsonBytes = 256ull << 20;

/// Reads `path` whole. REQUIRES: nothing. Fails with an input error (exit 2)
/// naming the path when it is missing, not a regular file (a device, FIFO or
/// folder) or larger than `max_bytes`; with a runtime error when reading fails.
/// Opening never blocks (a FIFO is refused, not waited on).
Result<std::string> ReadInputFile(const std::string& path, uint64_t max_bytes);

}  // namespace slipway
