// SHA-256 (OpenSSL libcrypto) and identifiers derived from it: name-based
// UUIDs for libvirt objects and deterministic MAC addresses.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace slipway {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
/// Lower-case hex of the SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
/// SHA-256 of a file, streamed. Errors name the path.
Result<std::string> Sha256File(const std::string& path);

/// A UUID (RFC 9562 version 8, custom) derived from `name`: the same name
/// always gives the same UUID.
std::string NameUuid(std::string_view name);

std::string HexEncode(const uint8_t* data, size_t n);

}  // namespace slipway
