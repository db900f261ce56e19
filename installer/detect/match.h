// Matching a host against hardware profiles, and preflight checks. Pure: a
// HardwareReport and profiles in, rule results out. Every result carries the
// host's value, the threshold and where the threshold was set.
#pragma once

#include <string>
#include <vector>

#include "installer/detect/hardware_report.h"
#include "installer/model/profiles.h"

namespace slipway::installer {

enum class CheckState { kPass, kFail, kSkipped };

struct RuleResult {
  std::string name;       ///< "memory", "cores", ... (the names --skip-check takes)
  std::string measured;   ///< the host's value, e.g. "64 GiB"
  std::string threshold;  ///< e.g. ">= 192 GiB"
  CheckState state = CheckState::kFail;
  std::string detail;  ///< why, when it failed ("host has 64 GiB memory; ...")
  SourcePos source;    ///< where the threshold was set (empty: a default)
};

/// The checks, in the order they run.
const std::vector<std::string>& CheckNames();

/// Evaluates every rule of `profile` against `host`. Rules named in `skip`
/// are reported as kSkipped (still listed, so the record is complete).
std::vector<RuleResult> EvaluateRules(const HardwareReport& host, const HardwareProfile& profile,
                                      const std::vector<std::string>& skip = {});

struct ProfileMatch {
  const HardwareProfile* profile = nullptr;
  std::vector<RuleResult> rules;
  bool fits = false;
  size_t failed = 0;
  double shortfall = 0;  ///< sum of relative shortfalls of numeric rules, for "nearest"
};

/// Evaluates every profile and ranks them: those that fit first, most
/// demanding (the best use of the host) first; then the rest, nearest first.
std::vector<ProfileMatch> MatchProfiles(const HardwareReport& host, const std::vector<HardwareProfile>& profiles);

/// What a profile lacks, one sentence per failed rule: "host has 32 GiB
/// memory; profile 'standard' needs at least 192 GiB".
std::vector<std::string> Lacks(const ProfileMatch& m);

std::string_view StateName(CheckState s);

}  // namespace slipway::installer
