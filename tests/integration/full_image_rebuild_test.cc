// The full Debian node and load-balancer images (label boot, with the boot
// tests because they share the cached builds of full_images.h) rebuild
// byte-identically: raw and qcow2.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "full_images.h"
#include "test_util.h"

using namespace slipway;
using testing::BuildFull;
using testing::FullImage;

TEST_CASE("the full node and load-balancer images rebuild byte-identically", "[slow]") {
  for (const char* name : {"linux-node", "loadbalancer"}) {
    nlohmann::json first = FullImage(name);
    testing::TempDir dir;
    nlohmann::json again = BuildFull(name, dir / "out");
    INFO(name);
    CHECK(again["outputs"][std::string(name) + ".raw"]["sha256"] ==
          first["outputs"][std::string(name) + ".raw"]["sha256"]);
    CHECK(again["outputs"][std::string(name) + ".qcow2"]["sha256"] ==
          first["outputs"][std::string(name) + ".qcow2"]["sha256"]);
  }
}
