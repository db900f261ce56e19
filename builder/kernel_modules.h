// The kernel of the installer ISO and the modules its first stage loads.
// A kernel tree is a root folder holding boot/vmlinuz-VERSION and
// lib/modules/VERSION/ (a Debian host's /, or a linux-image .deb unpacked
// with dpkg-deb -x). Module dependencies come from each module's .modinfo
// "depends=" (read with the ELF walker), so the tree needs no modules.dep:
// a .deb ships none, depmod writes it at install time.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::builder {

struct KernelTree {
  std::string root;
  std::string version;      ///< "6.1.0-28-amd64"
  std::string image;        ///< root/boot/vmlinuz-VERSION
  std::string modules_dir;  ///< root/lib/modules/VERSION
};

/// The newest boot/vmlinuz-VERSION under `root` that has lib/modules/VERSION.
Result<KernelTree> FindKernel(const std::string& root);

/// The module files (relative to modules_dir) to load for `wanted` (names,
/// '-' and '_' alike), dependencies first, each once. Modules built into
/// the kernel (modules.builtin) are skipped. An unknown name is an error
/// naming it and the tree; compressed modules (.ko.xz, .ko.zst) are refused.
Result<std::vector<std::string>> ModuleLoadOrder(const KernelTree& kernel, const std::vector<std::string>& wanted);

}  // namespace slipway::builder
