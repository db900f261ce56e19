// What booted this live system, as far as the installer can see it: the
// kernel command line, the sha256 of the boot files on the medium, and the
// TPM's PCRs that the firmware, shim and GRUB extend. Under Secure Boot only
// shim, GRUB and the kernel are verified; the initramfs, GRUB's configuration
// (with the command line) and the live root are not (docs/iso.md, "Secure
// Boot"), so the report prints these values for an operator to compare with
// the build's.
#pragma once

#include <map>
#include <string>

#include "installer/detect/sysroot.h"

namespace slipway::installer {

struct BootEvidence {
  std::string cmdline;                       ///< /proc/cmdline
  std::map<std::string, std::string> files;  ///< path on the medium -> sha256
  std::map<std::string, std::string> pcrs;   ///< PCR index -> sha256 bank value (hex), when a TPM 2.0 shows them
  std::string pcr_note;                      ///< why there are no PCRs, when there are none
};

/// The boot medium's files (boot/vmlinuz, boot/initrd.img, boot/grub/grub.cfg,
/// boot/efi.img, those present) under `medium`, and PCRs 4, 7, 8 and 9 from
/// /sys/class/tpm/tpm0/pcr-sha256/ (kernel 5.12+).
BootEvidence ReadBootEvidence(const Sysroot& s, const std::string& medium = "/run/slipway/medium");

}  // namespace slipway::installer
