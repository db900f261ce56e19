// Kernel trees and module load order.
#include "builder/kernel_modules.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "builder/elf_deps.h"
#include "common/atomic_file.h"
#include "common/strings.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

std::string Normal(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// "x.ko" -> "x", "x.ko.xz" -> "x" (and whether it is compressed).
std::string ModuleName(const std::string& file, bool* compressed) {
  for (const char* ext : {".ko.xz", ".ko.zst", ".ko.gz"}) {
    if (file.size() > std::strlen(ext) && file.compare(file.size() - std::strlen(ext), std::string::npos, ext) == 0) {
      *compressed = true;
      return Normal(file.substr(0, file.size() - std::strlen(ext)));
    }
  }
  *compressed = false;
  if (file.size() > 3 && file.compare(file.size() - 3, 3, ".ko") == 0) return Normal(file.substr(0, file.size() - 3));
  return "";
}

}  // namespace

Result<KernelTree> FindKernel(const std::string& root) {
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/boot", ec)) {
    std::string name = e.path().filename().string();
    if (!StartsWith(name, "vmlinuz-")) continue;
    std::string v = name.substr(8);
    if (fs::is_directory(root + "/lib/modules/" + v)) versions.push_back(v);
  }
  if (versions.empty()) {
    return Error::Input("no kernel in " + root +
                        ": it needs boot/vmlinuz-VERSION and lib/modules/VERSION/ (give "
                        "--kernel DIR: a Debian root, or a linux-image .deb unpacked with dpkg-deb -x)");
  }
  std::sort(versions.begin(), versions.end());
  KernelTree k;
  k.root = root;
  k.version = versions.back();
  k.image = root + "/boot/vmlinuz-" + k.version;
  k.modules_dir = root + "/lib/modules/" + k.version;
  return k;
}

Result<std::vector<std::string>> ModuleLoadOrder(const KernelTree& kernel, const std::vector<std::string>& wanted) {
  // Every module file, by name.
  std::map<std::string, std::string> path_of;  // name -> path relative to modules_dir
  std::map<std::string, bool> is_compressed;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(kernel.modules_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    bool compressed = false;
    std::string name = ModuleName(it->path().filename().string(), &compressed);
    if (name.empty()) continue;
    path_of[name] = it->path().lexically_relative(kernel.modules_dir).string();
    is_compressed[name] = compressed;
  }
  std::set<std::string> builtin;
  if (auto text = ReadFile(kernel.modules_dir + "/modules.builtin")) {
    for (const std::string& line : Split(*text, '\n')) {
      bool unused = false;
      std::string name = ModuleName(fs::path(line).filename().string(), &unused);
      if (!name.empty()) builtin.insert(name);
    }
  }
  std::vector<std::string> order;
  std::set<std::string> done, visiting;
  std::function<Status(const std::string&, const std::string&)> visit = [&](const std::string& name,
                                                                            const std::string& wanted_by) -> Status {
    if (done.count(name) || builtin.count(name)) return Ok();
    auto it = path_of.find(name);
    if (it == path_of.end()) {
      return Error::Input("kernel module '" + name + "'" + (wanted_by.empty() ? "" : " (needed by " + wanted_by + ")") +
                          " is neither in " + kernel.modules_dir + " nor built into kernel " + kernel.version);
    }
    if (is_compressed[name]) {
      return Error::Input("kernel module " + it->second + " is compressed; Slipway loads plain .ko files only");
    }
    if (!visiting.insert(name).second) return Ok();  // a dependency cycle: the kernel refuses those anyway
    auto modinfo = ReadElfSection(kernel.modules_dir + "/" + it->second, ".modinfo");
    if (!modinfo) return std::move(modinfo).error();
    for (const std::string& field : Split(*modinfo, '\0')) {
      if (!StartsWith(field, "depends=")) continue;
      for (const std::string& dep : Split(field.substr(8), ',')) {
        if (dep.empty()) continue;
        if (auto st = visit(Normal(dep), name); !st) return st;
      }
    }
    done.insert(name);
    order.push_back(it->second);
    return Ok();
  };
  for (const std::string& w : wanted) {
    if (auto st = visit(Normal(w), ""); !st) return std::move(st).error();
  }
  return order;
}

}  // namespace slipway::builder
