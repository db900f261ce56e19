// The first-boot agent Slipway puts in every Linux image: a POSIX shell
// script (it runs on the full Debian image under systemd, and on the tiny
// busybox image of the boot tests) that reads the NoCloud seed (label
// cidata), applies hostname, network and SSH keys, runs the role's setup and
// prints "slipway-node-ready <hostname>" on the console. We ship our own
// instead of cloud-init: it is a few dozen lines, starts in milliseconds
// under TCG, and the seed stays cloud-init compatible for images that prefer
// cloud-init.
#pragma once

#include <string>

#include "common/error.h"

namespace slipway::builder {

/// The agent script itself.
const std::string& AgentScript();

/// Installs the agent at /usr/lib/slipway/firstboot with its systemd unit
/// (enabled) into the tree at `root`.
Status InstallAgent(const std::string& root);

}  // namespace slipway::builder
