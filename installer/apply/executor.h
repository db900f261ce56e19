// The executor: applies a Plan through the Hypervisor seam, recording every
// step in the Journal, so that a rerun after a crash at any point converges
// on the plan with nothing duplicated or leaked. It destroys exactly what it
// created. See docs/executor.md.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "installer/apply/hypervisor.h"
#include "installer/plan/plan.h"

namespace slipway::installer {

/// What a step makes. ToString gives the spelling the journal, owned.json
/// and `apply --json` use.
enum class StepKind { kNetwork, kPool, kBase, kVolume, kSeed, kAnswer, kDomain, kStart };
std::string ToString(StepKind k);
/// The kind spelled `s`; nullopt for any other text (a tampered state file).
std::optional<StepKind> ParseStepKind(std::string_view s);
/// Kinds whose object is a volume in a pool: base, volume, seed, answer.
bool IsVolume(StepKind k);

/// One idempotent unit of work, in apply order.
struct Step {
  std::string id;  ///< journal key: "<kind>:<plan id>"
  StepKind kind = StepKind::kNetwork;
  std::string name;  ///< the libvirt object's name
  std::string pool;  ///< for volumes and seeds
  std::string cluster;
  std::string plan_id;
};

/// The steps of a plan: pools and base volumes, then the management cluster,
/// then each workload cluster (network, VM volumes, seeds, define, start).
std::vector<Step> PlanSteps(const Plan& plan);

struct ApplyOptions {
  std::string state_dir = "/var/lib/slipway";
  /// Prefix for every CSV path (pool folders), for demos and tests that put
  /// the CSVs of a fixture host under a temp folder. "" means "/".
  std::string storage_root;
  std::string images_dir;   ///< <image>.qcow2 files for base volumes, and the Windows kit (<image>-answer.iso)
  std::string domain_type;  ///< "" = "test" on the test driver, else "qemu" (TCG)
  bool yes = false;         ///< confirm removals without asking
  bool additive = false;    ///< never remove anything (a partial plan, or unattended)
  std::function<bool(const std::string&)> confirm;  ///< asks a person; null = refuse removals without --yes
};

struct StepEvent {
  size_t n = 0;
  size_t total = 0;
  std::string action;  ///< "create", "keep", "remove", "note"
  Step step;
  std::string detail;
};

struct ApplySummary {
  size_t to_create = 0;
  size_t to_change = 0;
  size_t to_destroy = 0;
  size_t created = 0;
  size_t kept = 0;
  size_t destroyed = 0;
  std::vector<std::string> notes;
};

using EventSink = std::function<void(const StepEvent&)>;

/// Looks at libvirt and the journal and says what apply would do.
/// `before` is printed before any change is made.
Result<ApplySummary> Apply(const Plan& plan, Hypervisor& hv, const ApplyOptions& options, const EventSink& sink,
                           const std::function<void(const ApplySummary& before)>& announce);

struct DestroyOptions {
  std::string state_dir = "/var/lib/slipway";
  std::string storage_root;
  std::string cluster;  ///< "" = everything Slipway created
};

/// Removes what the applied plan (kept in the state folder) created: the
/// cluster's domains, volumes, seeds and network, or with no cluster also
/// the base volumes and pools. Objects that exist but were not made by
/// Slipway (other UUID or no Slipway metadata) are left alone and reported.
Result<ApplySummary> Destroy(Hypervisor& hv, const DestroyOptions& options, const EventSink& sink);

/// The domain XML for a planned VM (exposed for tests). `cdrom_paths`: the
/// seed ISO first; for a Windows VM then the install media and the answer ISO.
std::string DomainXml(const PlanVm& vm, const Plan& plan, const std::string& domain_type,
                      const std::vector<std::string>& disk_paths, const std::vector<std::string>& cdrom_paths,
                      const std::string& console_log, const std::string& nvram_path);

}  // namespace slipway::installer
