// Plan validation before the first libvirt call. A plan is a file a person
// can edit (or an attacker can plant), and the executor turns its names into
// libvirt objects and its paths into files, some holding secrets. CheckPlan
// refuses anything the planner would never make: names that are not DNS
// labels or plain file names, paths that leave their root (.., absolute
// names, symlinks), absurd sizes, VMs that do not fit their host, duplicate
// ids, dangling references, an unknown schema, and addresses outside their
// network. Every violation is an input error (exit 2), found before anything
// is created.
#pragma once

#include <string>

#include "common/error.h"
#include "installer/plan/plan.h"

namespace slipway::installer {

/// The plan schema this build reads and writes.
inline constexpr const char* kPlanSchema = "slipway.plan/v1";

/// Checks `plan` (read from `source`, named in messages) for applying with
/// CSV paths under `storage_root` ("" = "/"). Returns an input error listing
/// every violation (at most 20, then a count), or Ok.
Status CheckPlan(const Plan& plan, const std::string& source, const std::string& storage_root);

}  // namespace slipway::installer
