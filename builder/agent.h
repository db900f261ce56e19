// The first-boot agent Slipway puts in every Linux image: POSIX shell scripts
// (they run on the full Debian image under systemd, and on the tiny busybox
// image of the boot tests). `firstboot` reads the NoCloud seed (label
// cidata) and applies hostname, network (NICs renamed by MAC) and SSH keys,
// and writes the VM's files; `node-setup` then runs the role's setup and
// checks (nftables, HAProxy and keepalived, or containerd and kubeadm) and
// prints "slipway-node-ready <hostname>" on the console. We ship our own
// instead of cloud-init: it is a few dozen lines, starts in milliseconds
// under TCG, and the seed stays cloud-init compatible for images that prefer
// cloud-init.
#pragma once

#include <string>

#include "builder/image_definition.h"
#include "common/error.h"

namespace slipway::builder {

/// The agent script itself.
const std::string& AgentScript();

/// The role setup of an image with role `image_role` ("linux-node" or
/// "loadbalancer"): it reports each check as "slipway-role-setup: ..." and
/// ends with the ready marker.
const std::string& NodeSetupScript(ImageRole image_role);

/// The load-balancer image's lb-apply (common/lb_apply.h): checks and
/// installs the Service rules `slipway lb sync` sends over SSH, opens their
/// ports and reloads HAProxy and keepalived.
const std::string& LbApplyScript();

/// Installs /usr/lib/slipway/firstboot and /usr/lib/slipway/node-setup with
/// their systemd units (enabled) into the tree at `root`.
Status InstallAgent(const std::string& root, ImageRole image_role);

}  // namespace slipway::builder
