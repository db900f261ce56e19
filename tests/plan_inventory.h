// What a plan says libvirt should hold, as an Inventory, and the check that
// libvirt holds exactly that: shared by the executor tests on the test
// driver and the real-VM tests on the QEMU driver.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "installer/apply/hypervisor.h"
#include "installer/plan/plan.h"

namespace slipway::testing {

/// `baseline` plus every pool, base volume, network, domain, disk and seed
/// ISO of `p`, sorted as Hypervisor::List() returns them. With `nvram` (the
/// QEMU driver, which makes them), also each UEFI VM's variable store,
/// <vm>_VARS.fd beside its disks, which the pool lists as a volume.
inline installer::Inventory Expected(const installer::Plan& p, const installer::Inventory& baseline,
                                     bool nvram = false) {
  installer::Inventory inv = baseline;
  std::map<std::string, std::string> pool_name;
  for (const auto& pool : p.pools) {
    inv.pools.push_back(pool.name);
    pool_name[pool.id] = pool.name;
  }
  for (const auto& b : p.base_volumes) inv.volumes.push_back(pool_name[b.pool_id] + "/" + b.name);
  for (const auto& n : p.networks) inv.networks.push_back(n.name);
  for (const auto& vm : p.vms) {
    inv.domains.push_back(vm.name);
    for (const auto& d : vm.disks) inv.volumes.push_back(pool_name[d.pool_id] + "/" + d.name);
    inv.volumes.push_back(pool_name[vm.disks[0].pool_id] + "/" + vm.name + "-seed.iso");
    if (nvram && vm.firmware.mode == "uefi")
      inv.volumes.push_back(pool_name[vm.disks[0].pool_id] + "/" + vm.name + "_VARS.fd");
  }
  for (auto* v : {&inv.domains, &inv.networks, &inv.pools, &inv.volumes}) std::sort(v->begin(), v->end());
  return inv;
}

inline void CheckSame(const installer::Inventory& got, const installer::Inventory& want) {
  CHECK(got.domains == want.domains);
  CHECK(got.networks == want.networks);
  CHECK(got.pools == want.pools);
  CHECK(got.volumes == want.volumes);
}

}  // namespace slipway::testing
