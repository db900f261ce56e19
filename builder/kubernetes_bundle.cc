// The Kubernetes bundle manifest: reading and checking it.
#include "builder/kubernetes_bundle.h"

#include <array>
#include <map>
#include <set>

#include "common/strings.h"

namespace slipway::builder {

namespace {

constexpr std::array<std::pair<BundleFileKind, std::string_view>, 8> kKinds = {{
    {BundleFileKind::kKubeadm, "kubeadm"},
    {BundleFileKind::kKubelet, "kubelet"},
    {BundleFileKind::kKubectl, "kubectl"},
    {BundleFileKind::kCrictl, "crictl"},
    {BundleFileKind::kKubeProxy, "kube-proxy"},
    {BundleFileKind::kContainerd, "containerd"},
    {BundleFileKind::kCniPlugin, "cni-plugin"},
    {BundleFileKind::kImage, "image"},
}};

constexpr std::array<std::pair<ImageComponent, std::string_view>, 7> kComponents = {{
    {ImageComponent::kKubeApiserver, "kube-apiserver"},
    {ImageComponent::kKubeControllerManager, "kube-controller-manager"},
    {ImageComponent::kKubeScheduler, "kube-scheduler"},
    {ImageComponent::kKubeProxy, "kube-proxy"},
    {ImageComponent::kCoreDns, "coredns"},
    {ImageComponent::kPause, "pause"},
    {ImageComponent::kCni, "cni"},
}};

template <typename T, size_t N>
std::vector<std::string> Names(const std::array<std::pair<T, std::string_view>, N>& table) {
  std::vector<std::string> out;
  for (const auto& [value, name] : table) out.emplace_back(name);
  return out;
}

template <typename T, size_t N>
T FromName(const std::array<std::pair<T, std::string_view>, N>& table, std::string_view name) {
  for (const auto& [value, n] : table) {
    if (n == name) return value;
  }
  return table[0].first;  // unreachable: TableReader::Enum checked the name
}

// Digits, dots, and an optional -prerelease: "1.28.5", "1.29.0-rc.1".
bool IsVersion(std::string_view v) {
  std::string_view core = v.substr(0, v.find('-'));
  std::vector<std::string> parts = Split(core, '.');
  if (parts.size() != 3) return false;
  for (const std::string& p : parts) {
    if (p.empty() || p.size() > 9 || (p.size() > 1 && p[0] == '0')) return false;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
    }
  }
  return core.size() == v.size() || core.size() + 1 < v.size();
}

bool IsSha256(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Empty when `p` is a clean relative path inside the bundle.
std::string PathProblem(std::string_view p) {
  if (p.empty()) return "is empty";
  if (p[0] == '/') return "is absolute; give it relative to the bundle's root";
  if (p.size() > 1024) return "is longer than 1024 characters";
  for (const std::string& part : Split(p, '/')) {
    if (part == "..") return "contains '..'; every file must be inside the bundle";
    if (part.empty() || part == ".") return "has an empty or '.' component; write it as 'dir/file'";
  }
  for (char c : p) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return "contains a control character or a backslash";
  }
  if (p == kBundleManifestName) return "names the manifest itself";
  return "";
}

// The Kubernetes components whose version is the cluster's.
bool AtKubernetesVersion(const BundleFile& f) {
  switch (f.kind) {
    case BundleFileKind::kKubeadm:
    case BundleFileKind::kKubelet:
    case BundleFileKind::kKubectl:
    case BundleFileKind::kKubeProxy:
      return true;
    case BundleFileKind::kImage:
      return f.component == ImageComponent::kKubeApiserver || f.component == ImageComponent::kKubeControllerManager ||
             f.component == ImageComponent::kKubeScheduler || f.component == ImageComponent::kKubeProxy;
    case BundleFileKind::kCrictl:
    case BundleFileKind::kContainerd:
    case BundleFileKind::kCniPlugin:
      return false;
  }
  return false;
}

std::optional<BundleFile> ReadEntry(const toml::table& t, const std::string& file, size_t index,
                                    const std::string& k8s_version, Diagnostics* diags) {
  size_t before = diags->ErrorCount();
  TableReader r(t, file, "[[file]] " + std::to_string(index + 1), diags);
  BundleFile f;
  f.pos = r.TablePos();
  if (auto p = r.String("path", Need::kRequired)) {
    if (std::string why = PathProblem(*p); !why.empty()) {
      r.ErrorAt("path", "'path' '" + SanitizeForDisplay(*p, false) + "' " + why);
    } else {
      f.path = *p;
    }
  }
  if (auto k = r.Enum("kind", Need::kRequired, Names(kKinds))) f.kind = FromName(kKinds, *k);
  if (auto o = r.Enum("os", Need::kOptional, {"linux", "windows"})) {
    f.os = *o == "windows" ? BundleOs::kWindows : BundleOs::kLinux;
  }
  if (auto v = r.String("version", Need::kRequired)) {
    if (v->empty() || v->size() > 64) {
      r.ErrorAt("version", "'version' must be 1 to 64 characters, like \"1.28.5\"");
    } else {
      f.version = *v;
    }
  }
  if (auto s = r.String("sha256", Need::kRequired)) {
    if (!IsSha256(*s)) {
      r.ErrorAt("sha256", "'sha256' must be 64 lower-case hex digits (what 'sha256sum FILE' prints before the name)");
    } else {
      f.sha256 = *s;
    }
  }
  if (f.kind == BundleFileKind::kImage) {
    if (auto c = r.Enum("component", Need::kRequired, Names(kComponents))) f.component = FromName(kComponents, *c);
    if (auto ref = r.String("image", Need::kRequired)) {
      if (ref->find(':') == std::string::npos && ref->find('@') == std::string::npos) {
        r.ErrorAt("image", "'image' '" + SanitizeForDisplay(*ref, false) +
                               "' has no tag; write the reference the archive imports as, like "
                               "\"registry.k8s.io/pause:3.9\"");
      } else {
        f.image = *ref;
      }
    }
  }
  if (diags->ErrorCount() == before && !k8s_version.empty() && AtKubernetesVersion(f) && f.version != k8s_version) {
    std::string what = f.kind == BundleFileKind::kImage ? std::string(ImageComponentName(*f.component)) + " image"
                                                        : std::string(BundleFileKindName(f.kind));
    r.ErrorAt("version", "'version' " + f.version + " of " + what + " does not match kubernetes_version " +
                             k8s_version + "; a bundle carries one Kubernetes release (fetch " + what + " " +
                             k8s_version + ")");
  }
  r.Finish();
  if (diags->ErrorCount() != before) return std::nullopt;
  return f;
}

// Two files of one kind and OS where a node runs only one (a second kubelet
// would silently replace the first in the image).
std::string UniqueKey(const BundleFile& f) {
  switch (f.kind) {
    case BundleFileKind::kCniPlugin:
      return "";
    case BundleFileKind::kImage:
      return f.component == ImageComponent::kCni
                 ? ""
                 : std::string(BundleOsName(f.os)) + " image " + std::string(ImageComponentName(*f.component));
    default:
      return std::string(BundleOsName(f.os)) + " " + std::string(BundleFileKindName(f.kind));
  }
}

}  // namespace

std::string_view BundleFileKindName(BundleFileKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "?";
}

std::string_view ImageComponentName(ImageComponent component) {
  for (const auto& [c, name] : kComponents) {
    if (c == component) return name;
  }
  return "?";
}

std::string_view BundleOsName(BundleOs os) { return os == BundleOs::kWindows ? "windows" : "linux"; }

std::optional<BundleManifest> ReadBundleManifest(const toml::table& root, const std::string& file, Diagnostics* diags) {
  size_t before = diags->ErrorCount();
  BundleManifest m;
  m.file = file;
  TableReader top(root, file, "", diags);
  if (auto k = top.String("kind", Need::kRequired); k && *k != "kubernetes-bundle") {
    top.ErrorAt("kind", "'kind' must be \"kubernetes-bundle\" in " + std::string(kBundleManifestName));
  }
  if (auto v = top.String("kubernetes_version", Need::kRequired)) {
    if (!IsVersion(*v)) {
      std::string hint = (!v->empty() && (*v)[0] == 'v' && IsVersion(v->substr(1))) ? " (write '" + v->substr(1) + "')"
                                                                                    : " like \"1.28.5\"";
      top.ErrorAt("kubernetes_version", "'kubernetes_version' '" + SanitizeForDisplay(*v, false) +
                                            "' is not a version MAJOR.MINOR.PATCH" + hint);
    } else {
      m.kubernetes_version = *v;
    }
  }
  if (auto c = top.String("cni", Need::kRequired)) {
    if (c->empty() || c->size() > 64) {
      top.ErrorAt("cni", "'cni' names the CNI whose images the bundle holds, like \"calico\" or \"flannel\"");
    } else {
      m.cni = *c;
    }
  }
  std::vector<const toml::table*> tables = top.TableArray("file", Need::kRequired);
  top.Finish();
  std::map<std::string, SourcePos> paths, unique;
  for (size_t i = 0; i < tables.size(); ++i) {
    auto f = ReadEntry(*tables[i], file, i, m.kubernetes_version, diags);
    if (!f) continue;
    if (auto [it, fresh] = paths.emplace(f->path, f->pos); !fresh) {
      diags->Error(f->pos, "'" + SanitizeForDisplay(f->path, false) + "' is listed twice (first at line " +
                               std::to_string(it->second.line) + "); list each file once");
      continue;
    }
    if (std::string key = UniqueKey(*f); !key.empty()) {
      if (auto [it, fresh] = unique.emplace(key, f->pos); !fresh) {
        diags->Error(f->pos, "a second " + key + " (the first is at line " + std::to_string(it->second.line) +
                                 "); a node runs one, so keep one of them");
        continue;
      }
    }
    m.files.push_back(std::move(*f));
  }
  if (diags->ErrorCount() != before) return std::nullopt;
  return m;
}

std::optional<BundleManifest> ParseBundleManifest(std::string_view text, const std::string& display_path,
                                                  Diagnostics* diags) {
  auto t = ParseTomlText(text, display_path, diags);
  if (!t) return std::nullopt;
  return ReadBundleManifest(*t, display_path, diags);
}

void CheckBundleComplete(const BundleManifest& m, BundleOs os, Diagnostics* diags) {
  std::set<BundleFileKind> kinds;
  std::set<ImageComponent> images;
  for (const BundleFile& f : m.files) {
    if (f.os != os) continue;
    kinds.insert(f.kind);
    if (f.component) images.insert(*f.component);
  }
  std::vector<std::string> missing;
  std::vector<BundleFileKind> need_kinds =
      os == BundleOs::kLinux
          ? std::vector<BundleFileKind>{BundleFileKind::kKubeadm, BundleFileKind::kKubelet, BundleFileKind::kKubectl,
                                        BundleFileKind::kCrictl, BundleFileKind::kCniPlugin}
          : std::vector<BundleFileKind>{BundleFileKind::kKubeadm, BundleFileKind::kKubelet, BundleFileKind::kKubeProxy,
                                        BundleFileKind::kContainerd};
  for (BundleFileKind k : need_kinds) {
    if (!kinds.count(k)) missing.push_back("kind = \"" + std::string(BundleFileKindName(k)) + "\"");
  }
  if (os == BundleOs::kLinux) {
    for (const auto& [c, name] : kComponents) {
      if (!images.count(c)) missing.push_back("kind = \"image\", component = \"" + std::string(name) + "\"");
    }
  }
  if (missing.empty()) return;
  diags->Error({m.file, 1, 1}, "the bundle lacks what a " + std::string(BundleOsName(os)) +
                                   " node needs; add a [[file]] (os = \"" + std::string(BundleOsName(os)) +
                                   "\") with " + Join(missing, "; with ") +
                                   " (docs/kubernetes-bundle.md lists every file)");
}

}  // namespace slipway::builder
