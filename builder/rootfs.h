// Rootfs sources for image builds: a tarball (extracted with libarchive,
// refusing hostile entries), a directory (a hard-link farm of it), or
// mmdebstrap (run and cached by the definition hash). The result is always a
// work tree that hardening may modify: new files replace old ones by rename,
// and an in-place change (chmod) calls BreakHardLink first.
#pragma once

#include <string>

#include "builder/image_definition.h"
#include "common/error.h"

namespace slipway::builder {

struct ExtractPolicy {
  bool allow_device_nodes = false;
  bool allow_absolute_symlinks = false;
};

/// Extracts `tarball` into `dest` (which must not exist). Refused, with the
/// entry named: absolute paths, ".." components, symlinks or hard links that
/// escape the root, absolute symlinks (unless allowed), device nodes (unless
/// allowed). Extraction never follows a symlink. On any error `dest` is
/// removed, so no partial tree is left behind.
Status ExtractTarball(const std::string& tarball, const std::string& dest, const ExtractPolicy& policy);

/// Makes `dest` a copy of the tree `src`: new directories whose files are
/// hard links to the source's (cp -al), or a real copy (cp -a) when `src`
/// is on another file system. REQUIRES: whoever changes a file of `dest` in
/// place (chmod, utimes, write) calls BreakHardLink on it first.
Status CopyTree(const std::string& src, const std::string& dest);

/// Gives `path` its own inode (same content, mode, owner and times) when it
/// is a regular file with more than one link; otherwise does nothing.
Status BreakHardLink(const std::string& path);

/// Runs mmdebstrap for `def` into `dest`, or reuses `cache_dir/<hash>.tar`
/// when present (and stores it there afterwards).
Status Bootstrap(const ImageDefinition& def, const std::string& def_hash, const std::string& cache_dir,
                 const std::string& dest);

}  // namespace slipway::builder
