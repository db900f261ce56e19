// The tiny node image of the boot tests: busybox + Debian's kernel
// (tests/boot/make-tiny-node.sh), built by `slipway build image` like any
// node image. It boots in seconds under TCG, so it is the node image where
// guests run inside a guest.
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace slipway::testing {

// Builds the tiny node once per test binary run, in the build tree.
inline std::string TinyImage() {
  static std::string image = [] {
    std::string base = std::string(SLIPWAY_BUILD_DIR) + "/boot-test";
    std::string cache = std::string(SLIPWAY_BUILD_DIR) + "/boot-cache";
    auto mk = Run("bash " + SourceDir() + "/tests/boot/make-tiny-node.sh " + cache + " " + base);
    INFO(mk.out << mk.err);
    REQUIRE(mk.exit_code == 0);
    WriteText(base + "/node.toml",
              "name = \"tiny-node\"\nrole = \"linux-node\"\n[rootfs]\nsource = \"directory\"\npath = "
              "\"rootfs\"\n[disk]\nsize_gib = 1\nesp_mib = 64\n[hardening]\nsteps = [\"sysctl\", \"sshd\", "
              "\"nftables\", \"setuid\", \"tmp-mount\", \"mask-services\"]\nopen_tcp_ports = [22]\n");
    std::filesystem::remove_all(base + "/out");
    auto b = Run(Slipway() + " build image " + base + "/node.toml --out " + base + "/out");
    INFO(b.out << b.err);
    REQUIRE(b.exit_code == 0);
    return base + "/out/tiny-node.qcow2";
  }();
  return image;
}

}  // namespace slipway::testing
