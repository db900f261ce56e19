// Hardening steps, declared in an image definition and applied to a rootfs
// tree by plain file edits (no chroot, no package manager). Each step says
// what it changed; the list goes into the image manifest.
#pragma once

#include <string>
#include <vector>

#include "builder/image_definition.h"
#include "common/error.h"

namespace slipway::builder {

struct HardeningRecord {
  std::string step;
  std::vector<std::string> changes;
};

/// Kernel command-line arguments the "kernel-cmdline" step asks for.
const std::vector<std::string>& HardenedKernelArgs();

/// Applies `def.hardening.steps`, in order, to the tree at `root`.
/// Idempotent: applying twice gives the same tree.
Result<std::vector<HardeningRecord>> Harden(const std::string& root, const ImageDefinition& def);

}  // namespace slipway::builder
