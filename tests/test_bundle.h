// A small Kubernetes bundle for tests: stand-in files (Debian 12 packages no
// kubeadm or kubelet, and nothing may be downloaded here) under a manifest
// with their real sha256s, shaped like docs/kubernetes-bundle.md's list.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/hash.h"
#include "test_util.h"

namespace slipway::testing {

struct TarEntry {
  TarEntry(std::string n, std::string b, mode_t t = AE_IFREG, std::string l = "", int64_t s = -1)
      : name(std::move(n)), body(std::move(b)), type(t), link(std::move(l)), size(s) {}
  std::string name;
  std::string body;
  mode_t type = AE_IFREG;
  std::string link;   ///< symlink target or hard-link name
  int64_t size = -1;  ///< header size when not body.size() (no data is written then)
};

/// Writes a pax tarball of `entries` with libarchive.
inline void WriteTar(const std::string& path, const std::vector<TarEntry>& entries) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_filename(a, path.c_str());
  for (const TarEntry& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.name.c_str());
    archive_entry_set_perm(e, t.type == AE_IFDIR ? 0755 : 0644);
    if (t.type == AE_IFREG && !t.link.empty()) {
      archive_entry_set_hardlink(e, t.link.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
    } else {
      archive_entry_set_filetype(e, t.type);
    }
    if (t.type == AE_IFLNK) archive_entry_set_symlink(e, t.link.c_str());
    if (t.type == AE_IFCHR) archive_entry_set_rdev(e, makedev(1, 3));
    archive_entry_set_size(e, t.size >= 0 ? 0 : static_cast<int64_t>(t.type == AE_IFREG ? t.body.size() : 0));
    archive_write_header(a, e);
    if (t.size < 0 && !t.body.empty()) archive_write_data(a, t.body.data(), t.body.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  // A declared size without its data (a huge entry in a small file): the
  // ustar header's size field is patched, and its checksum recomputed.
  std::string bytes = ReadText(path);
  for (const TarEntry& t : entries) {
    if (t.size < 0) continue;
    for (size_t off = 0; off + 512 <= bytes.size(); off += 512) {
      if (bytes.compare(off, t.name.size() + 1, t.name.c_str(), t.name.size() + 1) != 0) continue;
      char size[32];
      std::snprintf(size, sizeof size, "%011llo", static_cast<unsigned long long>(t.size));
      bytes.replace(off + 124, 12, std::string(size, 11) + '\0');
      bytes.replace(off + 148, 8, std::string(8, ' '));
      unsigned sum = 0;
      for (size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(bytes[off + i]);
      char chk[16];
      std::snprintf(chk, sizeof chk, "%06o", sum);
      bytes.replace(off + 148, 8, std::string(chk, 6) + '\0' + ' ');
      break;
    }
  }
  WriteText(path, bytes);
}

inline std::string TarBytes(const std::vector<TarEntry>& entries) {
  TempDir t;
  WriteTar(t / "x.tar", entries);
  return ReadText(t / "x.tar");
}

/// A real OCI image archive (what `ctr images export` writes): one
/// uncompressed layer holding /`file`, a config, a manifest, and an index
/// naming the image `ref` (io.containerd.image.name), for linux/amd64.
inline std::string OciArchive(const std::string& ref, const std::string& file) {
  std::vector<TarEntry> blobs;
  auto blob = [&](const std::string& data) {
    std::string hex = Sha256Hex(data);
    blobs.push_back({"blobs/sha256/" + hex, data});
    return nlohmann::json{{"digest", "sha256:" + hex}, {"size", data.size()}};
  };
  std::string layer = TarBytes({{file, "stand-in for " + ref + "\n"}});
  nlohmann::json l = blob(layer);
  l["mediaType"] = "application/vnd.oci.image.layer.v1.tar";
  nlohmann::json config = {{"architecture", "amd64"},
                           {"os", "linux"},
                           {"config", {{"Entrypoint", {"/" + file}}}},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + Sha256Hex(layer)}}}}};
  nlohmann::json c = blob(config.dump());
  c["mediaType"] = "application/vnd.oci.image.config.v1+json";
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config", c},
                             {"layers", {l}}};
  nlohmann::json m = blob(manifest.dump());
  m["mediaType"] = "application/vnd.oci.image.manifest.v1+json";
  m["platform"] = {{"architecture", "amd64"}, {"os", "linux"}};
  m["annotations"] = {{"io.containerd.image.name", ref},
                      {"org.opencontainers.image.ref.name", ref.substr(ref.rfind(':') + 1)}};
  nlohmann::json index = {{"schemaVersion", 2}, {"manifests", {m}}};
  std::vector<TarEntry> entries = {{"oci-layout", R"({"imageLayoutVersion":"1.0.0"})"}, {"index.json", index.dump()}};
  entries.insert(entries.end(), blobs.begin(), blobs.end());
  return TarBytes(entries);
}

struct TestBundleFile {
  std::string path, kind, version, body, extra;  ///< extra: more TOML lines (image, component, os)
};

/// The files of the test bundle. With `oci`, the image archives are real
/// OCI archives (OciArchive) that containerd imports; otherwise short text.
inline std::vector<TestBundleFile> TestBundleFiles(const std::string& v = "1.28.5", bool oci = false) {
  auto tool = [](const std::string& name) { return "#!/bin/sh\necho '" + name + " stand-in'\n"; };
  auto image = [&](const std::string& file, const std::string& ref, const std::string& component,
                   const std::string& version) {
    std::string body = oci ? OciArchive(ref, component) : "stand-in image archive of " + ref + "\n";
    return TestBundleFile{"images/" + file, "image", version, body,
                          "image = \"" + ref + "\"\ncomponent = \"" + component + "\"\n"};
  };
  return {
      {"bin/kubeadm", "kubeadm", v, tool("kubeadm"), ""},
      {"bin/kubelet", "kubelet", v, tool("kubelet"), ""},
      {"bin/kubectl", "kubectl", v, tool("kubectl"), ""},
      {"bin/crictl", "crictl", "1.28.0", tool("crictl"), ""},
      {"cni/bridge", "cni-plugin", "1.3.0", tool("bridge"), ""},
      {"cni/host-local", "cni-plugin", "1.3.0", tool("host-local"), ""},
      {"cni/loopback", "cni-plugin", "1.3.0", tool("loopback"), ""},
      image("kube-apiserver.tar", "registry.k8s.io/kube-apiserver:v" + v, "kube-apiserver", v),
      image("kube-controller-manager.tar", "registry.k8s.io/kube-controller-manager:v" + v, "kube-controller-manager",
            v),
      image("kube-scheduler.tar", "registry.k8s.io/kube-scheduler:v" + v, "kube-scheduler", v),
      image("kube-proxy.tar", "registry.k8s.io/kube-proxy:v" + v, "kube-proxy", v),
      image("coredns.tar", "registry.k8s.io/coredns/coredns:v1.10.1", "coredns", "1.10.1"),
      image("pause.tar", "registry.k8s.io/pause:3.9", "pause", "3.9"),
      image("flannel.tar", "docker.io/flannel/flannel:v0.24.0", "cni", "0.24.0"),
      {"windows/kubelet.exe", "kubelet", v, "MZ kubelet.exe stand-in", "os = \"windows\"\n"},
      {"windows/kubeadm.exe", "kubeadm", v, "MZ kubeadm.exe stand-in", "os = \"windows\"\n"},
      {"windows/kube-proxy.exe", "kube-proxy", v, "MZ kube-proxy.exe stand-in", "os = \"windows\"\n"},
      {"windows/containerd-1.7.11-windows-amd64.tar.gz", "containerd", "1.7.11", "containerd stand-in",
       "os = \"windows\"\n"},
  };
}

inline std::string TestBundleManifest(const std::vector<TestBundleFile>& files, const std::string& v = "1.28.5") {
  std::string m = "kind = \"kubernetes-bundle\"\nkubernetes_version = \"" + v + "\"\ncni = \"flannel\"\n";
  for (const TestBundleFile& f : files) {
    m += "\n[[file]]\npath = \"" + f.path + "\"\nkind = \"" + f.kind + "\"\nversion = \"" + f.version +
         "\"\nsha256 = \"" + Sha256Hex(f.body) + "\"\n" + f.extra;
  }
  return m;
}

/// Writes the bundle as a folder at `dir`; returns `dir`.
inline std::string WriteTestBundle(const std::string& dir, const std::string& v = "1.28.5", bool oci = false) {
  auto files = TestBundleFiles(v, oci);
  for (const TestBundleFile& f : files) WriteText(dir + "/" + f.path, f.body);
  WriteText(dir + "/kubernetes-bundle.toml", TestBundleManifest(files, v));
  return dir;
}

/// The test bundle as tar entries under `prefix` ("" or "bundle/").
inline std::vector<TarEntry> TestBundleTarEntries(const std::string& prefix = "") {
  auto files = TestBundleFiles();
  std::vector<TarEntry> out = {{prefix + "kubernetes-bundle.toml", TestBundleManifest(files)}};
  for (const TestBundleFile& f : files) out.push_back({prefix + f.path, f.body});
  return out;
}

}  // namespace slipway::testing
