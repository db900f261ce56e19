// Shared-library closure of ELF programs, for the installer's live root: our
// own walker over PT_INTERP, DT_NEEDED and DT_RUNPATH/DT_RPATH (with
// $ORIGIN), resolved like the dynamic loader does without ld.so.cache. Only
// ELF64 little-endian (x86-64 and other 64-bit LE machines) is read.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::builder {

/// What one ELF file asks of the dynamic loader.
struct ElfInfo {
  std::string interpreter;           ///< PT_INTERP, "" for static programs and libraries
  std::vector<std::string> needed;   ///< DT_NEEDED sonames, in file order
  std::vector<std::string> runpath;  ///< DT_RUNPATH (or DT_RPATH) folders, $ORIGIN expanded
};

/// Reads `path` (under the build machine's root). Errors: unreadable, not
/// ELF, or not ELF64 little-endian, naming the file.
Result<ElfInfo> ReadElf(const std::string& path);

/// The bytes of section `name` of the ELF file `path` (for a kernel
/// module's ".modinfo"); empty when the file has no such section.
Result<std::string> ReadElfSection(const std::string& path, const std::string& name);

/// One file the closure needs: where it is on the build machine, and where
/// the loader looks for it on the target (the same path, or the folder it
/// was found in plus the soname).
struct ElfFile {
  std::string source;  ///< real file (symlinks resolved)
  std::string target;  ///< absolute path on the target
};

/// The folders the loader searches after RUNPATH on Debian amd64.
const std::vector<std::string>& DefaultLibraryDirs();

/// Every program in `programs`, its interpreter and every library they
/// need, transitively, each once, sorted by target. A soname that no folder
/// holds is an error naming it and the file that needs it.
Result<std::vector<ElfFile>> ElfClosure(const std::vector<std::string>& programs,
                                        const std::vector<std::string>& library_dirs = DefaultLibraryDirs());

}  // namespace slipway::builder
