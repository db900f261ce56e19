// Linux image builds.
#include "builder/image_build.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <thread>

#include "builder/agent.h"
#include "builder/disk.h"
#include "builder/harden.h"
#include "builder/kubernetes_bundle.h"
#include "builder/rootfs.h"
#include "common/atomic_file.h"
#include "common/hash.h"
#include "common/json_text.h"
#include "common/kubernetes.h"
#include "common/strings.h"
#include "common/subprocess.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

// The newest /boot/<prefix>* of the tree (Debian names them by version).
std::string Newest(const std::string& tree, const std::string& prefix) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(tree + "/boot", ec)) {
    std::string name = e.path().filename().string();
    if (StartsWith(name, prefix) && (e.is_regular_file() || e.is_symlink())) found.push_back(e.path().string());
  }
  std::sort(found.begin(), found.end());
  return found.empty() ? "" : found.back();
}

nlohmann::json Packages(const std::string& tree) {
  nlohmann::json out = nlohmann::json::object();
  auto status = ReadFile(tree + "/var/lib/dpkg/status");
  if (!status) return out;
  std::string pkg, version;
  bool installed = false;
  for (const std::string& line : Split(*status, '\n')) {
    if (line.empty()) {
      if (!pkg.empty() && installed) out[pkg] = version;
      pkg.clear(), version.clear(), installed = false;
    } else if (StartsWith(line, "Package: ")) {
      pkg = line.substr(9);
    } else if (StartsWith(line, "Version: ")) {
      version = line.substr(9);
    } else if (StartsWith(line, "Status: ")) {
      installed = line.find(" installed") != std::string::npos;
    }
  }
  if (!pkg.empty() && installed) out[pkg] = version;
  return out;
}

// The bundle, verified and complete for a Linux node, staged in `work`.
Result<std::optional<VerifiedBundle>> StageBundle(const std::string& bundle, const ImageDefinition& def,
                                                  const std::string& work) {
  if (bundle.empty()) return std::optional<VerifiedBundle>();
  if (def.role != ImageRole::kLinuxNode) {
    return Error::Input("--kubernetes applies to the linux-node image, not to role '" +
                        std::string(ToString(def.role)) + "'");
  }
  auto v = VerifyBundle(bundle, work + "/bundle");
  if (!v) return std::move(v).error().Context("verifying the Kubernetes bundle " + bundle);
  Diagnostics diags;
  CheckBundleComplete(v->manifest, BundleOs::kLinux, &diags);
  if (diags.HasErrors()) return Error::Input(FormatDiagnostic(diags.items()[0]));
  return std::optional<VerifiedBundle>(std::move(*v));
}

nlohmann::json KubernetesRecord(const std::optional<VerifiedBundle>& b) {
  if (!b) return {{"bundle", false}, {"note", kNoKubernetesBundle}};
  nlohmann::json files = nlohmann::json::array();
  for (const BundleFile& f : b->manifest.files) {
    if (f.os != BundleOs::kLinux || f.kind == BundleFileKind::kContainerd) continue;
    nlohmann::json e = {
        {"path", ImagePathOf(f)}, {"kind", BundleFileKindName(f.kind)}, {"version", f.version}, {"sha256", f.sha256}};
    if (!f.image.empty()) e["image"] = f.image;
    files.push_back(std::move(e));
  }
  return {{"bundle", true}, {"version", b->manifest.kubernetes_version}, {"cni", b->manifest.cni}, {"files", files}};
}

}  // namespace

Result<nlohmann::json> BuildImage(const std::string& def_file, const ImageDefinition& def, const BuildOptions& o) {
  if (!IsLinuxDiskRole(def.role)) {
    return Error::Input(def_file + ": role '" + std::string(ToString(def.role)) + "' is not a disk image; " +
                        (def.role == ImageRole::kInstaller
                             ? std::string("use 'slipway build iso'")
                             : std::string("give --windows-media PATH for the Windows kit")));
  }
  auto started = std::chrono::steady_clock::now();
  auto def_text = ReadFile(def_file);
  if (!def_text) return std::move(def_text).error();
  std::string def_hash = Sha256Hex(*def_text);
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return Error::Runtime("cannot create " + o.out_dir + ": " + ec.message());
  std::string work = o.out_dir + "/.work-" + std::to_string(getpid());
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  auto fail = [&](Error e) {
    fs::remove_all(work, ec);
    return e.Context("building " + def.name);
  };
  std::string tree = work + "/tree";

  // 0. The Kubernetes bundle: every file verified before anything is built.
  auto bundle = StageBundle(o.kubernetes_bundle, def, work);
  if (!bundle) return fail(std::move(bundle).error());

  // 1. Rootfs.
  std::string source = o.rootfs;
  std::string base = fs::path(def_file).parent_path().string();
  if (base.empty()) base = ".";  // a definition named without a folder: relative to here, not to /
  if (source.empty() && def.rootfs.source != "mmdebstrap") {
    source = def.rootfs.path.empty() || def.rootfs.path[0] == '/' ? def.rootfs.path : base + "/" + def.rootfs.path;
  }
  Status st = Ok();
  if (source.empty()) {
    st = Bootstrap(def, def_hash, o.cache_dir.empty() ? o.out_dir + "/.cache" : o.cache_dir, tree);
  } else if (fs::is_directory(source)) {
    st = CopyTree(source, tree);
  } else if (fs::exists(source)) {
    st = ExtractTarball(source, tree, {def.rootfs.allow_device_nodes, def.rootfs.allow_absolute_symlinks});
  } else {
    st = Error::Input("rootfs '" + source + "' does not exist (give a directory or a tarball)");
  }
  if (!st) return fail(std::move(st).error());

  // 2. Hardening, 3. agent.
  auto records = Harden(tree, def);
  if (!records) return fail(std::move(records).error());
  if (auto s = InstallAgent(tree, def.role); !s) return fail(std::move(s).error());
  if (*bundle) {
    if (auto placed = InstallBundle(tree, **bundle); !placed) return fail(std::move(placed).error());
  }

  // 4. Disk.
  std::string kernel = Newest(tree, "vmlinuz"), initrd = Newest(tree, "initrd.img");
  if (kernel.empty() || initrd.empty()) {
    return fail(
        Error::Input("the rootfs has no /boot/vmlinuz* and /boot/initrd.img*; include linux-image-amd64 "
                     "(and initramfs-tools) in [rootfs] packages"));
  }
  kernel = fs::canonical(kernel, ec).string();
  initrd = fs::canonical(initrd, ec).string();
  DiskBuild spec;
  spec.size_bytes = static_cast<uint64_t>(def.disk.size_gib) << 30;
  spec.esp_bytes = static_cast<uint64_t>(def.disk.esp_mib) << 20;
  spec.seed = def_hash;
  spec.source_date_epoch = o.source_date_epoch;
  spec.kernel = kernel;
  spec.initrd = initrd;
  bool hardened_cmdline =
      std::find(def.hardening.steps.begin(), def.hardening.steps.end(), "kernel-cmdline") != def.hardening.steps.end();
  if (hardened_cmdline) spec.kernel_args = HardenedKernelArgs();
  spec.uefi = std::find(def.disk.boot.begin(), def.disk.boot.end(), "uefi") != def.disk.boot.end();
  spec.bios = std::find(def.disk.boot.begin(), def.disk.boot.end(), "bios") != def.disk.boot.end();
  std::string raw = o.out_dir + "/" + def.name + ".raw";
  auto disk = BuildDisk(tree, spec, work, work + "/disk.raw");
  if (!disk) return fail(std::move(disk).error());
  nlohmann::json outputs = nlohmann::json::object();
  bool want_raw = std::find(def.disk.formats.begin(), def.disk.formats.end(), "raw") != def.disk.formats.end();
  bool want_qcow2 = std::find(def.disk.formats.begin(), def.disk.formats.end(), "qcow2") != def.disk.formats.end();
  // Hash the raw image while qemu-img converts it: the two overlap on two cores.
  Result<std::string> raw_sum = Error::Runtime("not hashed");
  std::thread hasher([&] { raw_sum = Sha256File(work + "/disk.raw"); });
  Status converted = Ok();
  if (want_qcow2) {
    auto r =
        RunCommand({"qemu-img", "convert", "-f", "raw", "-O", "qcow2", work + "/disk.raw", work + "/disk.qcow2"}, {});
    if (!r) converted = std::move(r).error();
  }
  hasher.join();
  if (!converted) return fail(std::move(converted).error());
  if (!raw_sum) return fail(std::move(raw_sum).error());
  if (want_qcow2) {
    auto sum = Sha256File(work + "/disk.qcow2");
    if (!sum) return fail(std::move(sum).error());
    outputs[def.name + ".qcow2"] = {{"sha256", *sum}, {"bytes", fs::file_size(work + "/disk.qcow2")}};
  }
  if (want_raw) outputs[def.name + ".raw"] = {{"sha256", *raw_sum}, {"bytes", fs::file_size(work + "/disk.raw")}};

  // 5. Manifest, then the outputs are renamed into place together.
  nlohmann::json steps = nlohmann::json::array();
  for (const HardeningRecord& r : *records) steps.push_back({{"step", r.step}, {"changes", r.changes}});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json manifest = {{"schema", "slipway.image-manifest/v1"},
                             {"image", def.name},
                             {"role", ToString(def.role)},
                             {"definition", def_file},
                             {"definition_sha256", def_hash},
                             {"source_date_epoch", o.source_date_epoch},
                             {"build_seconds", std::round(seconds * 10) / 10},
                             {"kernel", fs::path(kernel).filename().string()},
                             {"root_partuuid", disk->root_partuuid},
                             {"root_fs_uuid", disk->root_fs_uuid},
                             {"boot", def.disk.boot},
                             {"hardening", steps},
                             {"packages", Packages(tree)},
                             {"outputs", outputs}};
  if (def.role == ImageRole::kLinuxNode) manifest[kImageManifestKubernetes] = KubernetesRecord(*bundle);
  if (want_qcow2) fs::rename(work + "/disk.qcow2", o.out_dir + "/" + def.name + ".qcow2", ec);
  if (!ec && want_raw) fs::rename(work + "/disk.raw", raw, ec);
  if (ec) return fail(Error::Runtime("cannot move the image into " + o.out_dir + ": " + ec.message()));
  if (auto s = WriteFileAtomic(o.out_dir + "/" + def.name + ".manifest.json", DumpJson(manifest, 2) + "\n"); !s) {
    return fail(std::move(s).error());
  }
  fs::remove_all(work, ec);
  return manifest;
}

}  // namespace slipway::builder
