// HardwareReport: what `slipway detect` found on a host. Every value that
// could not be read is a Probed<T> holding the reason, never a silent 0.
// The JSON form (--json) round-trips, so `slipway plan --hardware` can read it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "installer/detect/disk_contents.h"

namespace slipway::installer {

/// A value read from the host, or the reason it could not be read.
template <typename T>
struct Probed {
  std::optional<T> value;
  std::string unknown;  ///< reason, when !value

  static Probed Known(T v) { return Probed{std::move(v), ""}; }
  static Probed Unknown(std::string why) { return Probed{std::nullopt, std::move(why)}; }
  bool ok() const { return value.has_value(); }
  const T& operator*() const { return *value; }
  const T* operator->() const { return &*value; }
  T value_or(T fallback) const { return value.value_or(std::move(fallback)); }
  bool operator==(const Probed&) const = default;
};

}  // namespace slipway::installer

namespace nlohmann {
template <typename T>
struct adl_serializer<slipway::installer::Probed<T>> {
  static void to_json(json& j, const slipway::installer::Probed<T>& p) {
    if (p.value) {
      j = *p.value;
    } else {
      j = json{{"unknown", p.unknown}};
    }
  }
  static void from_json(const json& j, slipway::installer::Probed<T>& p) {
    if (j.is_object() && j.contains("unknown")) {
      p = slipway::installer::Probed<T>::Unknown(j.at("unknown").get<std::string>());
    } else {
      p = slipway::installer::Probed<T>::Known(j.get<T>());
    }
  }
};
}  // namespace nlohmann

namespace slipway::installer {

struct CpuInfo {
  Probed<std::string> model;
  Probed<int64_t> sockets;
  Probed<int64_t> cores;
  Probed<int64_t> threads;
  Probed<bool> virtualization;  ///< the CPU advertises vmx (Intel) or svm (AMD)
  std::string virtualization_flag;
  bool kvm_device = false;  ///< /dev/kvm exists
  std::string kvm_note;     ///< existence alone does not prove guests boot
};

struct Partition {
  std::string name;
  std::string dev;  ///< "major:minor"
  Probed<uint64_t> size_bytes;
};

struct Disk {
  std::string name;
  std::string dev;  ///< "major:minor"
  Probed<uint64_t> size_bytes;
  Probed<int64_t> logical_sector_bytes;
  Probed<int64_t> physical_sector_bytes;
  Probed<bool> rotational;
  Probed<bool> removable;
  bool read_only = false;
  std::string transport;  ///< "nvme", "sata/scsi", "virtio", "usb", "optical", "virtual", "unknown"
  Probed<std::string> model;
  Probed<std::string> serial;
  Probed<std::string> wwn;
  std::vector<Partition> partitions;
  std::vector<std::string> by_path;  ///< names in /dev/disk/by-path that point at it
  /// Partition table and file systems (libblkid on /dev/NAME); unknown when
  /// the device cannot be read, which the install-disk guard treats as "holds data".
  Probed<DiskContents> contents = Probed<DiskContents>::Unknown("not probed");
  /// Why it is busy: "/var is mounted from sda2", "sda held by dm-0"
  /// (mounts of it or its partitions, and /sys/block holders). Empty: idle.
  std::vector<std::string> in_use;
  bool boot_medium = false;
  std::string boot_reason;  ///< why it is the boot medium ("/ is mounted from vda1")
  std::string csv;          ///< the CSV mount point it (or a partition) backs, if any
};

struct Nic {
  std::string name;
  bool physical = false;  ///< backed by a device (not lo, bridge, veth, ifb...)
  Probed<std::string> mac;
  Probed<std::string> driver;
  Probed<int64_t> speed_mbps;
  Probed<bool> link;
  std::string operstate;
};

struct Gpu {
  std::string pci_address;
  std::string vendor_id;
  std::string device_id;
  std::string driver;
};

struct FirmwareInfo {
  std::string boot_mode;  ///< "uefi" or "bios"
  Probed<bool> secure_boot;
  bool tpm_present = false;
  Probed<std::string> tpm_version;  ///< "2.0" or "1.2"
};

struct Smbios {
  Probed<std::string> vendor;
  Probed<std::string> product;
  Probed<std::string> serial;
  Probed<std::string> uuid;
};

/// A Cluster Shared Volume: shared storage VM data is spread over.
struct Csv {
  std::string path;  ///< mount point (or --csv folder) inside the sysroot
  std::string fs_type;
  std::string source;
  std::string id;      ///< stable: hash of type, source and mount root
  std::string origin;  ///< "ClusterStorage", "shared-fs" or "named" (--csv / profile)
  Probed<uint64_t> size_bytes;
  Probed<uint64_t> free_bytes;
  bool writable = false;
};

struct HardwareReport {
  std::string sysroot;
  CpuInfo cpu;
  Probed<uint64_t> memory_bytes;
  std::vector<Disk> disks;
  std::vector<Nic> nics;
  std::vector<Gpu> gpus;
  FirmwareInfo firmware;
  Smbios smbios;
  std::vector<Csv> csvs;

  /// Disks that can hold data: not the boot medium, not removable, not
  /// read-only, not optical or virtual.
  std::vector<const Disk*> DataDisks() const;
  /// Total free bytes over writable CSVs with a known size.
  uint64_t CsvFreeBytes() const;
  std::vector<std::string> Macs() const;
};

/// Why `d` cannot hold data, or "" when it can.
std::string DataDiskProblem(const Disk& d);

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CpuInfo, model, sockets, cores, threads, virtualization, virtualization_flag,
                                   kvm_device, kvm_note)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Partition, name, dev, size_bytes)
// With defaults: reports saved before a field existed still load.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Disk, name, dev, size_bytes, logical_sector_bytes,
                                                physical_sector_bytes, rotational, removable, read_only, transport,
                                                model, serial, wwn, partitions, by_path, contents, in_use, boot_medium,
                                                boot_reason, csv)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Nic, name, physical, mac, driver, speed_mbps, link, operstate)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Gpu, pci_address, vendor_id, device_id, driver)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(FirmwareInfo, boot_mode, secure_boot, tpm_present, tpm_version)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Smbios, vendor, product, serial, uuid)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Csv, path, fs_type, source, id, origin, size_bytes, free_bytes, writable)

void to_json(nlohmann::json& j, const HardwareReport& r);
void from_json(const nlohmann::json& j, HardwareReport& r);

}  // namespace slipway::installer
