// The host disk's layout: pure arithmetic, no disk.
#include <catch2/catch.hpp>

#include "installer/apply/host_disk.h"

using namespace slipway;
using namespace slipway::installer;

TEST_CASE("the host disk layout puts BIOS boot, ESP, two equal system slots and data on MiB boundaries") {
  auto l = PlanHostDiskLayout("vda", 16ull << 30, 48ull << 20, 300ull << 20);
  REQUIRE(l.ok());
  REQUIRE(l->parts.size() == 5);
  const uint64_t mib = 2048;  // sectors
  CHECK(l->Of(HostPart::kBiosBoot).start == mib);
  CHECK(l->Of(HostPart::kBiosBoot).Bytes() == 1ull << 20);
  CHECK(l->Of(HostPart::kEsp).start == 2 * mib);
  CHECK(l->Of(HostPart::kEsp).Bytes() == 48ull << 20);
  CHECK(l->system_slot_bytes == 1ull << 30);  // twice the image, at least 1 GiB
  CHECK(l->Of(HostPart::kSystemA).Bytes() == l->Of(HostPart::kSystemB).Bytes());
  CHECK(l->Of(HostPart::kSystemB).start == l->Of(HostPart::kSystemA).end + 1);
  CHECK(l->Of(HostPart::kData).start == l->Of(HostPart::kSystemB).end + 1);
  CHECK((l->Of(HostPart::kData).end + 1) * 512 == (16ull << 30) - (1ull << 20));  // the last MiB stays free
  for (const HostDiskPartition& p : l->parts) CHECK(p.start % mib == 0);
  CHECK(l->Of(HostPart::kSystemA).name == "system-a");
  // A larger system image gets slots of twice its size.
  auto big = PlanHostDiskLayout("vda", 64ull << 30, 48ull << 20, 700ull << 20);
  REQUIRE(big.ok());
  CHECK(big->system_slot_bytes == 1400ull << 20);
}

TEST_CASE("a disk too small for the host system is refused with what it needs") {
  auto l = PlanHostDiskLayout("sdb", 2ull << 30, 48ull << 20, 300ull << 20);
  REQUIRE_FALSE(l.ok());
  CHECK(l.error().code() == ExitCode::kHostUnsuitable);
  CHECK(l.error().message() ==
        "install disk sdb has 2048 MiB; the host system needs at least 3123 MiB (ESP 48 MiB, system A and B 1024 MiB "
        "each, data at least 1024 MiB): choose a larger disk in [install_disk]");
}
