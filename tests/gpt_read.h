// Reading a GPT back with libparted, for tests: each partition's number,
// sectors, name and flags, as parted -m would print them.
#pragma once

#include <parted/parted.h>

#include <string>
#include <vector>

namespace slipway::testing {

struct ReadPartition {
  int number = 0;
  long long start = 0, end = 0;  ///< sectors, inclusive
  std::string name, fs, flags;   ///< flags: "bios_grub", "boot,esp,legacy_boot" ...
};

/// The partitions of the GPT on `path`; empty when libparted finds none.
inline std::vector<ReadPartition> ReadGpt(const std::string& path) {
  std::vector<ReadPartition> out;
  ped_exception_fetch_all();
  PedDevice* dev = ped_device_get(path.c_str());
  PedDisk* disk = dev ? ped_disk_new(dev) : nullptr;
  for (PedPartition* p = disk ? ped_disk_next_partition(disk, nullptr) : nullptr; p;
       p = ped_disk_next_partition(disk, p)) {
    if (p->num < 1) continue;  // free space and metadata
    ReadPartition r;
    r.number = p->num;
    r.start = p->geom.start;
    r.end = p->geom.end;
    r.name = ped_partition_get_name(p);
    r.fs = p->fs_type ? p->fs_type->name : "";
    for (PedPartitionFlag f = ped_partition_flag_next(static_cast<PedPartitionFlag>(0)); f;
         f = ped_partition_flag_next(f)) {
      if (ped_partition_is_flag_available(p, f) && ped_partition_get_flag(p, f)) {
        r.flags += (r.flags.empty() ? "" : ",") + std::string(ped_partition_flag_get_name(f));
      }
    }
    out.push_back(r);
  }
  if (disk) ped_disk_destroy(disk);
  if (dev) ped_device_destroy(dev);
  ped_exception_leave_all();
  return out;
}

}  // namespace slipway::testing
