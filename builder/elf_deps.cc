// ELF dependency walking.
#include "builder/elf_deps.h"

#include <elf.h>

#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <set>

#include "common/atomic_file.h"
#include "common/strings.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

template <typename T>
bool At(const std::string& data, uint64_t offset, T* out) {
  if (offset > data.size() || data.size() - offset < sizeof(T)) return false;
  std::memcpy(out, data.data() + offset, sizeof(T));
  return true;
}

// A NUL-terminated string at `offset`, bounded by the file.
std::string CString(const std::string& data, uint64_t offset) {
  if (offset >= data.size()) return "";
  size_t end = data.find('\0', offset);
  return data.substr(offset, (end == std::string::npos ? data.size() : end) - offset);
}

// Maps a virtual address to a file offset through the PT_LOAD segments.
bool VaddrToOffset(const std::vector<Elf64_Phdr>& phdrs, uint64_t vaddr, uint64_t* offset) {
  for (const Elf64_Phdr& p : phdrs) {
    if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr < p.p_vaddr + p.p_filesz) {
      *offset = vaddr - p.p_vaddr + p.p_offset;
      return true;
    }
  }
  return false;
}

}  // namespace

const std::vector<std::string>& DefaultLibraryDirs() {
  static const std::vector<std::string> kDirs = {
      "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"};
  return kDirs;
}

Result<ElfInfo> ReadElf(const std::string& path) {
  auto data = ReadFile(path);
  if (!data) return std::move(data).error();
  Elf64_Ehdr eh{};
  if (!At(*data, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
    return Error::Input(path + " is not an ELF file");
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return Error::Input(path + " is not a 64-bit little-endian ELF file");
  }
  std::vector<Elf64_Phdr> phdrs;
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr p{};
    if (!At(*data, eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize, &p)) {
      return Error::Input(path + ": program header " + std::to_string(i) + " lies outside the file");
    }
    phdrs.push_back(p);
  }
  ElfInfo info;
  const Elf64_Phdr* dynamic = nullptr;
  for (const Elf64_Phdr& p : phdrs) {
    if (p.p_type == PT_INTERP) info.interpreter = CString(*data, p.p_offset);
    if (p.p_type == PT_DYNAMIC) dynamic = &p;
  }
  if (!dynamic) return info;  // static
  std::vector<uint64_t> needed, runpath, rpath;
  uint64_t strtab = 0;
  for (uint64_t off = dynamic->p_offset; off + sizeof(Elf64_Dyn) <= dynamic->p_offset + dynamic->p_filesz;
       off += sizeof(Elf64_Dyn)) {
    Elf64_Dyn d{};
    if (!At(*data, off, &d) || d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_NEEDED) needed.push_back(d.d_un.d_val);
    if (d.d_tag == DT_RUNPATH) runpath.push_back(d.d_un.d_val);
    if (d.d_tag == DT_RPATH) rpath.push_back(d.d_un.d_val);
    if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
  }
  uint64_t strtab_off = 0;
  if (!needed.empty() && !VaddrToOffset(phdrs, strtab, &strtab_off)) {
    return Error::Input(path + ": the dynamic string table is not in a loaded segment");
  }
  for (uint64_t n : needed) info.needed.push_back(CString(*data, strtab_off + n));
  // DT_RUNPATH wins over DT_RPATH when both are there, as in ld.so.
  std::string origin = fs::path(path).parent_path().string();
  for (uint64_t r : runpath.empty() ? rpath : runpath) {
    for (std::string dir : Split(CString(*data, strtab_off + r), ':')) {
      for (const char* var : {"$ORIGIN", "${ORIGIN}"}) {
        for (size_t at; (at = dir.find(var)) != std::string::npos;) dir.replace(at, std::strlen(var), origin);
      }
      if (!dir.empty()) info.runpath.push_back(fs::path(dir).lexically_normal().string());
    }
  }
  return info;
}

Result<std::string> ReadElfSection(const std::string& path, const std::string& name) {
  auto data = ReadFile(path);
  if (!data) return std::move(data).error();
  Elf64_Ehdr eh{};
  if (!At(*data, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return Error::Input(path + " is not a 64-bit little-endian ELF file");
  }
  auto section = [&](uint16_t i, Elf64_Shdr* sh) {
    return At(*data, eh.e_shoff + static_cast<uint64_t>(i) * eh.e_shentsize, sh);
  };
  Elf64_Shdr names{};
  if (eh.e_shstrndx >= eh.e_shnum || !section(eh.e_shstrndx, &names)) {
    return Error::Input(path + ": no section name table");
  }
  for (uint16_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh{};
    if (!section(i, &sh))
      return Error::Input(path + ": section header " + std::to_string(i) + " lies outside the file");
    if (CString(*data, names.sh_offset + sh.sh_name) != name) continue;
    if (sh.sh_offset > data->size() || data->size() - sh.sh_offset < sh.sh_size) {
      return Error::Input(path + ": section " + name + " lies outside the file");
    }
    return data->substr(sh.sh_offset, sh.sh_size);
  }
  return std::string();
}

Result<std::vector<ElfFile>> ElfClosure(const std::vector<std::string>& programs,
                                        const std::vector<std::string>& library_dirs) {
  std::map<std::string, ElfFile> out;  // by target
  struct Todo {
    std::string path;    // as the loader would open it
    std::string target;  // set when taken from the list
    std::string wanted_by;
  };
  // Breadth first, and a soname found once is reused, as ld.so does: a
  // library without RUNPATH (libsystemd-core) gets its sibling
  // (libsystemd-shared) because the program's RUNPATH loaded it already.
  std::deque<Todo> todo;
  for (const std::string& p : programs) todo.push_back({p, "", ""});
  std::set<std::string> seen;
  std::map<std::string, std::string> loaded;  // soname -> path
  while (!todo.empty()) {
    Todo t = todo.front();
    todo.pop_front();
    std::error_code ec;
    std::string real = fs::canonical(t.path, ec).string();
    if (ec) {
      return Error::Input("cannot find " + t.path + (t.wanted_by.empty() ? "" : " (needed by " + t.wanted_by + ")"));
    }
    // The folder as the build machine resolves it (/lib -> /usr/lib on a
    // merged-/usr Debian), the name as the loader asks for it.
    fs::path asked(t.path);
    t.target = (fs::canonical(asked.parent_path(), ec) / asked.filename()).string();
    if (!seen.insert(t.target).second) continue;
    out[t.target] = ElfFile{real, t.target};
    auto info = ReadElf(real);
    if (!info) return std::move(info).error();
    if (!info->interpreter.empty()) todo.push_back({info->interpreter, "", t.target});
    for (const std::string& soname : info->needed) {
      if (loaded.count(soname)) continue;
      std::string found;
      std::vector<std::string> dirs = info->runpath;
      dirs.insert(dirs.end(), library_dirs.begin(), library_dirs.end());
      for (const std::string& dir : dirs) {
        if (fs::exists(dir + "/" + soname, ec)) {
          found = dir + "/" + soname;
          break;
        }
      }
      if (found.empty()) {
        return Error::Input("library " + soname + " (needed by " + t.target + ") is in none of " + Join(dirs, ", "));
      }
      loaded[soname] = found;
      todo.push_back({found, "", t.target});
    }
  }
  std::vector<ElfFile> files;
  for (auto& [target, f] : out) files.push_back(std::move(f));
  return files;
}

}  // namespace slipway::builder
