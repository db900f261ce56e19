// The host disk: layout, journal and write.
#include "installer/apply/host_disk.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/gpt_disk.h"
#include "common/hash.h"
#include "common/json_text.h"
#include "common/strings.h"
#include "common/subprocess.h"

namespace slipway::installer {

namespace {

constexpr uint64_t kSector = kSectorBytes;
constexpr const char* kRecordSchema = "slipway.host-disk/v1";

uint64_t RoundUp(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

std::string Mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::string DerivedGuid(const std::string& seed, const std::string& purpose) {
  return NameUuid("host-disk:" + seed + ":" + purpose);
}

}  // namespace

const HostDiskPartition& HostDiskLayout::Of(HostPart p) const {
  for (const HostDiskPartition& part : parts) {
    if (part.part == p) return part;
  }
  return parts.front();  // every layout from PlanHostDiskLayout has all five
}

Result<HostDiskLayout> PlanHostDiskLayout(const std::string& disk, uint64_t disk_bytes, uint64_t esp_bytes,
                                          uint64_t system_bytes) {
  HostDiskLayout l;
  l.disk_bytes = disk_bytes;
  l.system_slot_bytes = std::max<uint64_t>(1ull << 30, RoundUp(system_bytes * 2, kMiB));
  uint64_t esp = RoundUp(esp_bytes, kMiB);
  // 1 MiB before the first partition (GPT), 1 MiB kept free at the end
  // (the backup GPT and alignment).
  uint64_t fixed = kMiB + kMiB + esp + 2 * l.system_slot_bytes + kMiB;
  if (disk_bytes < fixed + kMinDataBytes) {
    return Error::HostUnsuitable("install disk " + disk + " has " + Mib(disk_bytes) +
                                 "; the host system needs at least " + Mib(fixed + kMinDataBytes) + " (ESP " +
                                 Mib(esp) + ", system A and B " + Mib(l.system_slot_bytes) + " each, data at least " +
                                 Mib(kMinDataBytes) + "): choose a larger disk in [install_disk]");
  }
  uint64_t at = kMiB / kSector;
  auto add = [&](HostPart p, const char* name, uint64_t bytes) {
    l.parts.push_back({p, name, at, at + bytes / kSector - 1});
    at += bytes / kSector;
  };
  add(HostPart::kBiosBoot, "bios-boot", kMiB);
  add(HostPart::kEsp, "ESP", esp);
  add(HostPart::kSystemA, "system-a", l.system_slot_bytes);
  add(HostPart::kSystemB, "system-b", l.system_slot_bytes);
  uint64_t end_bytes = (disk_bytes - kMiB) / kMiB * kMiB;  // MiB-aligned, the last MiB free
  add(HostPart::kData, "data", end_bytes - at * kSector);
  return l;
}

const std::vector<HostDiskStep>& HostDiskSteps() {
  static const std::vector<HostDiskStep> kSteps = {
      HostDiskStep::kInvalidate, HostDiskStep::kPartition, HostDiskStep::kSystemA, HostDiskStep::kSystemB,
      HostDiskStep::kData,       HostDiskStep::kEsp,       HostDiskStep::kCommit};
  return kSteps;
}

std::string_view HostDiskStepName(HostDiskStep s) {
  switch (s) {
    case HostDiskStep::kInvalidate:
      return "invalidate";
    case HostDiskStep::kPartition:
      return "partition";
    case HostDiskStep::kSystemA:
      return "system-a";
    case HostDiskStep::kSystemB:
      return "system-b";
    case HostDiskStep::kData:
      return "data";
    case HostDiskStep::kEsp:
      return "esp";
    case HostDiskStep::kCommit:
      return "commit";
  }
  return "?";
}

Result<std::optional<HostDiskRecord>> ReadHostDiskRecord(const std::string& state_dir) {
  std::string path = state_dir + "/" + kHostDiskRecord;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<HostDiskRecord>();
  auto text = ReadFile(path);
  if (!text) return std::move(text).error();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || j.value("schema", "") != kRecordSchema || !j.contains("disk") || !j["disk"].is_string() ||
      !j.contains("state") || !j["state"].is_string()) {
    return Error::Runtime(path + ": not a " + std::string(kRecordSchema) +
                          " record with 'disk' and 'state'; remove it to write the install disk again");
  }
  HostDiskRecord r;
  r.disk = j["disk"].get<std::string>();
  r.state = j["state"].get<std::string>();
  r.device = j.value("device", "");
  r.step = j.value("step", "");
  r.disk_bytes = j.value("disk_bytes", uint64_t{0});
  r.attempt = j.value("attempt", 1);
  r.seconds = j.value("seconds", 0.0);
  return std::optional<HostDiskRecord>(r);
}

Status WriteHostDiskRecord(FileOps& ops, const std::string& state_dir, const HostDiskRecord& r) {
  nlohmann::json j = {{"schema", kRecordSchema},    {"disk", r.disk},   {"device", r.device},
                      {"disk_bytes", r.disk_bytes}, {"state", r.state}, {"attempt", r.attempt}};
  if (!r.step.empty()) j["step"] = r.step;
  if (r.state == "written") j["seconds"] = r.seconds;
  return WriteFileDurably(ops, state_dir + "/" + kHostDiskRecord, DumpJson(j, 2) + "\n", 0644);
}

namespace {

Status RunStep(HostDiskStep step, const HostDiskJob& job, const HostDiskHooks& hooks) {
  const HostDiskLayout& l = job.layout;
  const std::string& dev = job.device;
  auto say = [&](const std::string& s) {
    if (hooks.status) hooks.status("Host disk " + job.disk + ": " + s);
  };
  switch (step) {
    case HostDiskStep::kInvalidate: {
      // Whatever was there stops being a partition table or a boot sector.
      say("erasing the old partition table");
      if (auto st = ZeroRange(dev, 0, 2 * kMiB); !st) return st;
      return ZeroRange(dev, l.disk_bytes - kMiB, kMiB);
    }
    case HostDiskStep::kPartition: {
      say("writing the GPT (BIOS boot, ESP " + Mib(l.Of(HostPart::kEsp).Bytes()) + ", system A and B " +
          Mib(l.system_slot_bytes) + " each, data " + Mib(l.Of(HostPart::kData).Bytes()) + ")");
      std::vector<GptPartition> parts;
      for (const HostDiskPartition& p : l.parts) {
        GptPartition g{p.start, p.end, "", p.name, DerivedGuid(job.seed, p.name), {}};
        if (p.part == HostPart::kBiosBoot) g.flags = {GptPartition::Flag::kBiosGrub};
        if (p.part == HostPart::kEsp) {
          g.fs_type = "fat32";
          g.flags = {GptPartition::Flag::kEsp, GptPartition::Flag::kLegacyBoot};
        }
        if (p.part == HostPart::kSystemA || p.part == HostPart::kSystemB || p.part == HostPart::kData)
          g.fs_type = "ext4";
        parts.push_back(g);
      }
      if (auto st = WriteGpt(dev, parts, DerivedGuid(job.seed, "disk")); !st) return st;
      // No boot signature until the commit: the disk boots nothing and is
      // no partitioned disk to the kernel while it is incomplete.
      return WriteAtDurably(dev, 510, std::string(2, '\0'));
    }
    case HostDiskStep::kSystemA: {
      const HostImageFile& img = job.manifest.system;
      say("writing system A (" + Mib(img.bytes) + ", checking its sha256)");
      if (img.bytes > l.system_slot_bytes)
        return Error::Runtime("the system image is " + Mib(img.bytes) + ", larger than its partition");
      auto st = CopyImageAt(
          job.host_system_dir + "/" + img.file, dev, l.Of(HostPart::kSystemA).start * kSector, img.sha256, true,
          [&](uint64_t done, uint64_t total) { say("system A: " + Mib(done) + " of " + Mib(total)); });
      if (!st) return st;
      // The rest of the slot, so that nothing old is found there.
      return ZeroRange(dev, l.Of(HostPart::kSystemA).start * kSector + RoundUp(img.bytes, kMiB), kMiB);
    }
    case HostDiskStep::kSystemB: {
      say("leaving system B empty (room for an A/B upgrade)");
      const HostDiskPartition& b = l.Of(HostPart::kSystemB);
      if (auto st = ZeroRange(dev, b.start * kSector, kMiB); !st) return st;
      return ZeroRange(dev, (b.end + 1) * kSector - kMiB, kMiB);
    }
    case HostDiskStep::kData: {
      const HostDiskPartition& d = l.Of(HostPart::kData);
      say("making the data file system (ext4, " + Mib(d.Bytes()) + ") for persistent /etc and /var");
      RunOptions ro;
      ro.env = {{"E2FSPROGS_FAKE_TIME", std::to_string(std::max<long>(1, job.epoch))}, {"TZ", "UTC"}};
      auto r = RunCommand(
          {"mke2fs", "-t", "ext4", "-q", "-F", "-L", kDataLabel, "-U", DerivedGuid(job.seed, "data-fs"), "-E",
           "offset=" + std::to_string(d.start * kSector) + ",hash_seed=" + DerivedGuid(job.seed, "data-hash") +
               ",root_owner=0:0,lazy_itable_init=1,nodiscard",
           dev, std::to_string(d.Bytes() / 1024) + "k"},
          ro);
      if (!r) return std::move(r).error().Context("making the data file system on " + dev);
      return Ok();
    }
    case HostDiskStep::kEsp: {
      const HostImageFile& img = job.manifest.esp;
      say("writing the ESP (" + Mib(img.bytes) + ": shim, GRUB, SYSLINUX, kernel, initramfs)");
      if (img.bytes > l.Of(HostPart::kEsp).Bytes())
        return Error::Runtime("the ESP image is " + Mib(img.bytes) + ", larger than its partition");
      return CopyImageAt(job.host_system_dir + "/" + img.file, dev, l.Of(HostPart::kEsp).start * kSector, img.sha256,
                         true);
    }
    case HostDiskStep::kCommit: {
      say("committing: BIOS boot code and the boot signature");
      auto code = ReadFile(job.host_system_dir + "/" + job.manifest.mbr.file);
      if (!code) return std::move(code).error();
      if (Sha256Hex(*code) != job.manifest.mbr.sha256 || code->size() > 440)
        return Error::Runtime(job.host_system_dir + "/" + job.manifest.mbr.file +
                              ": does not match its manifest; use another copy of the medium");
      if (auto st = WriteAtDurably(dev, 0, *code); !st) return st;
      return WriteAtDurably(dev, 510, "\x55\xaa");
    }
  }
  return Ok();
}

}  // namespace

Status WriteHostDisk(const HostDiskJob& job, FileOps& ops, const HostDiskHooks& hooks) {
  auto t0 = std::chrono::steady_clock::now();
  HostDiskRecord rec{job.disk, job.device, job.layout.disk_bytes, "writing", "", job.attempt, 0};
  for (HostDiskStep step : HostDiskSteps()) {
    // The journal names the step before it runs: a power cut during it is
    // then reported with the step's name on the next boot.
    rec.step = std::string(HostDiskStepName(step));
    if (auto st = WriteHostDiskRecord(ops, job.state_dir, rec); !st) return st;
    if (hooks.before_step) {
      if (auto st = hooks.before_step(step); !st) return st;
    }
    if (auto st = RunStep(step, job, hooks); !st)
      return std::move(st).error().Context("writing the host system to " + job.disk + " (step " + rec.step + ")");
  }
  rec.state = "written";
  rec.step.clear();
  rec.seconds = std::round(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 10) / 10;
  return WriteHostDiskRecord(ops, job.state_dir, rec);
}

}  // namespace slipway::installer
