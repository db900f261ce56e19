// Firmware XML.
#include "firmware/domain_firmware.h"

namespace slipway::firmware {

std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string OsXml(const FirmwareXmlInput& f, const std::string& domain_type) {
  std::string out = "  <os>\n    <type arch='x86_64'";
  if (domain_type != "test") out += " machine='" + XmlEscape(f.machine) + "'";
  out += ">hvm</type>\n";
  if (f.mode == "uefi" && domain_type != "test") {
    out += "    <loader readonly='yes' secure='" + std::string(f.secure_boot ? "yes" : "no") + "' type='pflash'>" +
           XmlEscape(f.loader) + "</loader>\n";
    out += "    <nvram";
    if (!f.nvram_template.empty()) out += " template='" + XmlEscape(f.nvram_template) + "'";
    out += ">" + XmlEscape(f.nvram_path) + "</nvram>\n";
  }
  out += "    <boot dev='hd'/>\n  </os>\n";
  return out;
}

std::string FeaturesXml(const FirmwareXmlInput& f) {
  std::string out = "  <features>\n    <acpi/>\n    <apic/>\n";
  if (f.secure_boot) out += "    <smm state='on'/>\n";
  out += "  </features>\n";
  return out;
}

std::string TpmXml(const FirmwareXmlInput& f) {
  if (f.tpm.empty()) return "";
  return "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='" + XmlEscape(f.tpm) + "'/>\n    </tpm>\n";
}

}  // namespace slipway::firmware
