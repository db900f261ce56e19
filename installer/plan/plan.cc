// Plan lookups.
#include "installer/plan/plan.h"

namespace slipway::installer {

const PlanVm* Plan::FindVm(std::string_view id) const {
  for (const PlanVm& vm : vms) {
    if (vm.id == id) return &vm;
  }
  return nullptr;
}

const PlanCluster* Plan::FindCluster(std::string_view name) const {
  for (const PlanCluster& c : clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace slipway::installer
