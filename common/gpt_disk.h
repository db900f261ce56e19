// The one GPT writer: a partition table made by libparted on a file or a
// block device, with identifiers (disk and partition GUIDs) replaced by
// derived ones so that the same inputs give the same bytes, and the one
// sparse image copy that puts a file system image into its partition. Used
// by the builder's disk images and by the installer's host disk.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway {

inline constexpr uint64_t kSectorBytes = 512;
inline constexpr uint64_t kMiB = 1ull << 20;

/// One partition, in 512-byte sectors (inclusive end).
struct GptPartition {
  enum class Flag { kEsp, kLegacyBoot, kBiosGrub };
  uint64_t start = 0, end = 0;
  std::string fs_type;  ///< libparted's name: "fat32", "ext4", "" for none
  std::string name;     ///< the GPT partition name
  std::string guid;     ///< its unique GUID (derived by the caller)
  std::vector<Flag> flags;
};

/// Writes a fresh GPT holding `parts` (in order) to `path` (a file or a
/// block device at least as large as the last partition plus 33 sectors),
/// then replaces libparted's random GUIDs by `disk_guid` and each part's
/// guid in both GPT copies, fixes the CRCs, zeroes the protective MBR's
/// disk signature, and fsyncs. Errors name the path and the partition.
Status WriteGpt(const std::string& path, const std::vector<GptPartition>& parts, const std::string& disk_guid);

/// Copies `src` into `dst` at byte `offset`. Unless `dense`, holes and
/// all-zero blocks are skipped (so a fresh sparse target stays sparse);
/// `dense` writes every byte, for a target that may hold old data. When
/// `sha256_hex` is not empty, the bytes read must hash to it (checked
/// before returning Ok). `progress` (may be empty) gets the bytes copied
/// so far, every 64 MiB. No fsync.
Status CopyImageAt(const std::string& src, const std::string& dst, uint64_t offset, const std::string& sha256_hex = "",
                   bool dense = false, const std::function<void(uint64_t done, uint64_t total)>& progress = {});

/// Writes `bytes` zero bytes at `offset` of `path` and fsyncs it.
Status ZeroRange(const std::string& path, uint64_t offset, uint64_t bytes);

/// Writes `data` at `offset` of `path` and fsyncs it.
Status WriteAtDurably(const std::string& path, uint64_t offset, const std::string& data);

/// The size of a file or a block device, in bytes.
Result<uint64_t> DeviceBytes(const std::string& path);

/// CRC-32 (IEEE), as GPT uses it.
uint32_t Crc32(const uint8_t* data, size_t n);

}  // namespace slipway
