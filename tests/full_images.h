// The full Debian node and load-balancer images for the boot tests:
// images/NAME.toml built by `slipway build image` from a Debian 12
// mmdebstrap rootfs. Cached in the build tree (build/full-images/NAME, keyed
// by the slipway binary and the definition; the mmdebstrap tarball in
// build/image-cache, keyed by the definition), because CTest runs each case
// in its own process.
#pragma once

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "common/hash.h"
#include "test_util.h"

namespace slipway::testing {

inline std::string BuildDir() { return SLIPWAY_BUILD_DIR; }

/// Builds images/NAME.toml into `out` with slipway; returns the manifest.
inline nlohmann::json BuildFull(const std::string& name, const std::string& out) {
  std::string def = SourceDir() + "/images/" + name + ".toml";
  auto b = Run(Slipway() + " build image " + def + " --out " + out + " --cache " + BuildDir() + "/image-cache");
  INFO(b.out << b.err);
  REQUIRE(b.exit_code == 0);
  return nlohmann::json::parse(ReadText(out + "/" + name + ".manifest.json"));
}

/// The folder of the cached build of images/NAME.toml.
inline std::string FullImageDir(const std::string& name) { return BuildDir() + "/full-images/" + name; }

/// The cached build of images/NAME.toml: rebuilt when the slipway binary or
/// the definition changed. Returns its manifest.
inline nlohmann::json FullImage(const std::string& name) {
  std::string out = FullImageDir(name);
  std::string key = *Sha256File(Slipway()) + " " + *Sha256File(SourceDir() + "/images/" + name + ".toml");
  if (ReadText(out + "/.key") == key && std::filesystem::exists(out + "/" + name + ".qcow2")) {
    return nlohmann::json::parse(ReadText(out + "/" + name + ".manifest.json"));
  }
  std::filesystem::remove_all(out);
  auto m = BuildFull(name, out);
  WriteText(out + "/.key", key);
  return m;
}

/// A real-VM test's folder: the full node and load-balancer images built
/// (cached) and linked into `dir`/images, and `dir`/root as the storage root.
/// Both folders are 0711: the storage root stands for a CSV's mount point,
/// which QEMU's user can traverse; the state folder stays private.
inline void StageFullImages(const TempDir& dir) {
  FullImage("linux-node");
  FullImage("loadbalancer");
  ::chmod(dir.path().c_str(), 0711);
  std::filesystem::create_directories(dir / "root");
  ::chmod((dir / "root").c_str(), 0711);
  std::filesystem::create_directories(dir / "images");
  for (const char* image : {"linux-node", "loadbalancer"}) {
    std::filesystem::create_symlink(FullImageDir(image) + "/" + image + ".qcow2",
                                    dir / ("images/" + std::string(image) + ".qcow2"));
  }
}

}  // namespace slipway::testing
