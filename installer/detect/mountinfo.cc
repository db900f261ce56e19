// mountinfo parsing.
#include "installer/detect/mountinfo.h"

#include "common/strings.h"

namespace slipway::installer {

namespace {

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

bool HasOption(std::string_view options, std::string_view opt) {
  for (const std::string& o : Split(options, ',')) {
    if (o == opt) return true;
  }
  return false;
}

}  // namespace

bool MountEntry::ReadOnly() const { return HasOption(options, "ro") || HasOption(super_options, "ro"); }

std::vector<MountEntry> ParseMountInfo(std::string_view text) {
  std::vector<MountEntry> out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f;
    for (const std::string& w : Split(line, ' ')) {
      if (!w.empty()) f.push_back(w);
    }
    // id parent dev root mountpoint options [optional...] - fstype source superopts
    if (f.size() < 9) continue;
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash + 2 >= f.size()) continue;
    MountEntry m;
    m.dev = f[2];
    m.root = Unescape(f[3]);
    m.mount_point = Unescape(f[4]);
    m.options = f[5];
    m.fs_type = f[dash + 1];
    m.source = Unescape(f[dash + 2]);
    m.super_options = dash + 3 < f.size() ? f[dash + 3] : "";
    out.push_back(std::move(m));
  }
  return out;
}

const MountEntry* FindMount(const std::vector<MountEntry>& mounts, std::string_view path) {
  const MountEntry* best = nullptr;
  for (const MountEntry& m : mounts) {
    std::string_view mp = m.mount_point;
    bool prefix =
        mp == "/" || path == mp || (StartsWith(path, mp) && path.size() > mp.size() && path[mp.size()] == '/');
    if (prefix && (!best || mp.size() >= best->mount_point.size())) best = &m;
  }
  return best;
}

}  // namespace slipway::installer
