// Boot evidence for the installer's report.
#include "installer/detect/boot_evidence.h"

#include <cctype>

#include "common/hash.h"

namespace slipway::installer {

BootEvidence ReadBootEvidence(const Sysroot& s, const std::string& medium) {
  BootEvidence e;
  if (auto c = s.ReadLine("/proc/cmdline")) e.cmdline = *c;
  for (const char* f : {"boot/vmlinuz", "boot/initrd.img", "boot/grub/grub.cfg", "boot/efi.img"}) {
    std::string path = medium + "/" + f;
    if (!s.Exists(path)) continue;
    if (auto h = Sha256File(s.Path(path))) e.files[f] = *h;
  }
  // PCR 4: the boot loaders (shim, GRUB); 7: the Secure Boot policy and the
  // certificates that verified them; 8: GRUB's commands and the kernel
  // command line; 9: the files GRUB read (grub.cfg, kernel, initramfs).
  std::string bank = "/sys/class/tpm/tpm0/pcr-sha256";
  if (!s.Exists("/sys/class/tpm/tpm0")) {
    e.pcr_note = "no TPM";
  } else if (!s.Exists(bank)) {
    e.pcr_note = "the TPM shows no sha256 PCR bank in sysfs";
  } else {
    for (const char* pcr : {"4", "7", "8", "9"}) {
      if (auto v = s.ReadLine(bank + "/" + pcr)) {
        std::string hex = *v;
        for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        e.pcrs[pcr] = hex;
      }
    }
  }
  return e;
}

}  // namespace slipway::installer
