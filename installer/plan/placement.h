// Placement of planned VMs on hosts and of their disks on CSVs. Deterministic:
// inputs are sorted by id and ties break by id.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "installer/plan/plan.h"

namespace slipway::installer {

/// Places each VM (in order) on a host with room: memory is never
/// overcommitted; vCPUs only up to each host's vcpu_capacity. VMs sharing a
/// group in `groups` (vm id -> group) go to different hosts when possible;
/// when not, a warning says so. Errors (exit 3) say what is missing and what
/// to remove.
Status PlaceOnHosts(std::vector<PlanHost>& hosts, std::vector<PlanVm>* vms,
                    const std::map<std::string, std::string>& groups, std::vector<std::string>* warnings);

/// Places every disk on a CSV, spreading VM data across all CSVs weighted by
/// free space: each disk goes where the fill fraction after placing it is
/// lowest. Disks of control-plane and load-balancer VMs of one cluster first
/// avoid CSVs that already hold one of their group. A base volume of the
/// disk's image is added to a CSV the first time an OS disk lands there, and
/// counts towards its space. When the disks do not fit, the error says how
/// much is missing on which CSV.
Status PlaceOnCsvs(std::vector<PlanCsv>& csvs, const std::vector<PlanPool>& pools,
                   const std::map<std::string, int64_t>& image_gib, std::vector<PlanVm>* vms,
                   std::vector<PlanBaseVolume>* bases);

}  // namespace slipway::installer
