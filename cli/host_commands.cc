// slipway detect / match / preflight: what host is this, which hardware
// profile fits it, and does it pass every check for the chosen profile.
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/host_context.h"
#include "common/args.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "installer/detect/detect.h"

namespace slipway::cli {

namespace {

template <typename T>
std::string Show(const installer::Probed<T>& p, auto fmt) {
  return p.ok() ? fmt(*p) : "unknown (" + p.unknown + ")";
}

std::string ShowStr(const installer::Probed<std::string>& p) {
  return Show(p, [](const std::string& s) { return s; });
}

// A simple aligned table: columns padded to their widest cell.
std::string Table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  }
  std::string out;
  for (size_t k = 0; k < rows.size(); ++k) {
    out += k == 0 ? "" : indent;
    for (size_t i = 0; i < rows[k].size(); ++i) {
      out += rows[k][i];
      if (i + 1 < rows[k].size()) out += std::string(width[i] - rows[k][i].size() + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

std::string Bytes(uint64_t b) { return FormatBytes(b); }

void PrintReport(const installer::HardwareReport& r, std::ostream& out) {
  const std::string ind = "             ";
  const auto& c = r.cpu;
  const auto& m = r.smbios;
  if (!m.vendor.ok() && !m.product.ok() && !m.serial.ok() && !m.uuid.ok() && m.vendor.unknown == m.uuid.unknown) {
    out << "Host         unknown (" << m.vendor.unknown << ")\n";
  } else {
    out << "Host         " << ShowStr(m.vendor) << " / " << ShowStr(m.product) << "\n"
        << ind << "serial " << ShowStr(m.serial) << ", uuid " << ShowStr(m.uuid) << "\n";
  }
  auto num = [](int64_t v) { return std::to_string(v); };
  out << "CPU          " << ShowStr(c.model) << ": " << Show(c.sockets, num) << " socket(s), " << Show(c.cores, num)
      << " cores, " << Show(c.threads, num) << " threads\n"
      << ind << "virtualization: "
      << Show(c.virtualization,
              [&](bool v) { return v ? "yes (" + c.virtualization_flag + ")" : std::string("no (no vmx/svm flag)"); })
      << "; " << c.kvm_note << "\n";
  out << "Memory       " << Show(r.memory_bytes, Bytes) << "\n";
  out << "Firmware     " << (r.firmware.boot_mode == "uefi" ? "UEFI" : "BIOS") << ", Secure Boot "
      << Show(r.firmware.secure_boot, [](bool v) { return std::string(v ? "on" : "off"); }) << ", TPM "
      << (r.firmware.tpm_present ? ShowStr(r.firmware.tpm_version) : std::string("none")) << "\n";

  std::vector<std::vector<std::string>> disks = {
      {"NAME", "SIZE", "TRANSPORT", "MEDIA", "RM", "MODEL", "SERIAL", "USE"}};
  for (const auto& d : r.disks) {
    std::string problem = installer::DataDiskProblem(d);
    disks.push_back({d.name, Show(d.size_bytes, Bytes), d.transport,
                     Show(d.rotational, [](bool v) { return std::string(v ? "hdd" : "ssd"); }),
                     Show(d.removable, [](bool v) { return std::string(v ? "yes" : "no"); }),
                     d.model.ok() ? *d.model : "-", d.serial.ok() ? *d.serial : "-",
                     d.boot_medium     ? "BOOT MEDIUM (" + d.boot_reason + ")"
                     : problem.empty() ? "data candidate"
                                       : "not for data: " + problem});
  }
  out << "Disks        " << (r.disks.empty() ? "none\n" : Table(disks, ind));
  std::vector<std::vector<std::string>> nics = {{"NAME", "KIND", "MAC", "DRIVER", "SPEED", "LINK"}};
  for (const auto& n : r.nics) {
    nics.push_back({n.name, n.physical ? "physical" : "virtual", n.mac.ok() ? *n.mac : "-",
                    n.driver.ok() ? *n.driver : "-",
                    n.speed_mbps.ok() ? std::to_string(*n.speed_mbps) + " Mb/s" : "unknown",
                    n.link.ok() ? (*n.link ? "up" : "down") : "unknown"});
  }
  out << "NICs         " << (r.nics.empty() ? "none\n" : Table(nics, ind));
  out << "GPUs         ";
  if (r.gpus.empty()) out << "none\n";
  for (size_t i = 0; i < r.gpus.size(); ++i) {
    const auto& g = r.gpus[i];
    out << (i ? ind : "") << g.pci_address << " " << g.vendor_id << ":" << g.device_id
        << (g.driver.empty() ? "" : " (" + g.driver + ")") << "\n";
  }
  std::vector<std::vector<std::string>> csvs = {{"PATH", "TYPE", "SIZE", "FREE", "ACCESS", "ID", "SOURCE"}};
  for (const auto& v : r.csvs) {
    csvs.push_back({v.path, v.fs_type, Show(v.size_bytes, Bytes), Show(v.free_bytes, Bytes),
                    v.writable ? "rw" : "READ-ONLY", v.id, v.source});
  }
  out << "CSVs         "
      << (r.csvs.empty() ? "none (looked for mounts under /ClusterStorage/ and " +
                               Join(installer::SharedFsTypes(), ", ") + " mounts; name others with --csv PATH)\n"
                         : Table(csvs, ind));
}

constexpr const char* kDetectHelp =
    "usage: slipway detect [--sysroot DIR | --hardware REPORT.json] [--csv PATH]... [--fs-usage FILE]\n"
    "                      [--json]\n\n"
    "Reports the host's CPU, memory, disks (marking the boot medium), NICs, GPUs,\n"
    "firmware (UEFI/BIOS, Secure Boot, TPM), SMBIOS identity and Cluster Shared\n"
    "Volumes. Values that cannot be read are shown as unknown, with the reason.\n\n"
    "  --sysroot DIR    read /sys, /proc, /dev under DIR instead of / (captured fixtures)\n"
    "  --hardware REPORT.json  print a report saved earlier with --json instead\n"
    "  --csv PATH       also count PATH (inside the sysroot) as a CSV; repeatable\n"
    "  --fs-usage FILE  take CSV size/free from FILE (statvfs.json written by\n"
    "                   tests/fixtures/capture-sysroot.sh) instead of statvfs(2)\n"
    "  --json           print the full report as JSON\n\n"
    "Exit codes: 0 ok, 2 bad options (e.g. a --csv path that does not exist).\n";

}  // namespace

int RunDetect(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, HostFlags({{"json"}}));
  if (!args) return UsageError("detect", args.error(), kDetectHelp, io);
  if (args->Has("help")) {
    io.out << kDetectHelp;
    return 0;
  }
  auto host = LoadHost(*args);
  if (!host) return ReportError("detect", host.error(), io);
  if (args->Has("json")) {
    io.out << DumpJson(nlohmann::json(host->report), 2) << "\n";
  } else {
    PrintReport(host->report, io.out);
  }
  return 0;
}

}  // namespace slipway::cli
