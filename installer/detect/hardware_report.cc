// HardwareReport helpers and JSON.
#include "installer/detect/hardware_report.h"

namespace slipway::installer {

std::string DataDiskProblem(const Disk& d) {
  if (d.boot_medium) return "holds the boot medium";
  if (!d.csv.empty()) return "backs CSV " + d.csv;
  if (d.removable.value_or(false)) return "is removable";
  if (d.read_only) return "is read-only";
  if (d.transport == "optical") return "is an optical drive";
  if (d.transport == "virtual") return "is a virtual device";
  if (d.transport == "usb") return "is on USB";
  if (!d.size_bytes.ok()) return "has an unknown size";
  if (*d.size_bytes < (8ull << 30)) return "is smaller than 8 GiB";
  return "";
}

std::vector<const Disk*> HardwareReport::DataDisks() const {
  std::vector<const Disk*> out;
  for (const Disk& d : disks) {
    if (DataDiskProblem(d).empty()) out.push_back(&d);
  }
  return out;
}

uint64_t HardwareReport::CsvFreeBytes() const {
  uint64_t total = 0;
  for (const Csv& c : csvs) {
    if (c.writable && c.free_bytes.ok()) total += *c.free_bytes;
  }
  return total;
}

std::vector<std::string> HardwareReport::Macs() const {
  std::vector<std::string> out;
  for (const Nic& n : nics) {
    if (n.physical && n.mac.ok()) out.push_back(*n.mac);
  }
  return out;
}

void to_json(nlohmann::json& j, const HardwareReport& r) {
  j = nlohmann::json{{"sysroot", r.sysroot},
                     {"cpu", r.cpu},
                     {"memory_bytes", r.memory_bytes},
                     {"disks", r.disks},
                     {"nics", r.nics},
                     {"gpus", r.gpus},
                     {"firmware", r.firmware},
                     {"smbios", r.smbios},
                     {"csvs", r.csvs},
                     {"schema", "slipway.hardware-report/v1"}};
}

void from_json(const nlohmann::json& j, HardwareReport& r) {
  j.at("sysroot").get_to(r.sysroot);
  j.at("cpu").get_to(r.cpu);
  j.at("memory_bytes").get_to(r.memory_bytes);
  j.at("disks").get_to(r.disks);
  j.at("nics").get_to(r.nics);
  j.at("gpus").get_to(r.gpus);
  j.at("firmware").get_to(r.firmware);
  j.at("smbios").get_to(r.smbios);
  j.at("csvs").get_to(r.csvs);
}

}  // namespace slipway::installer
