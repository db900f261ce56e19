// SHA-256 via OpenSSL's EVP interface.
#include "common/hash.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

namespace slipway {

namespace {

struct CtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

}  // namespace

std::string HexEncode(const uint8_t* data, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

std::string Sha256Hex(std::string_view data) {
  Sha256Digest d = Sha256(data);
  return HexEncode(d.data(), d.size());
}

Result<std::string> Sha256File(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot open", path, errno);
  Ctx ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  constexpr size_t kBuf = 1 << 20;
  std::unique_ptr<char[]> buf(new char[kBuf]);
  static const std::vector<char> kZeros(kBuf, 0);
  // Disk images are mostly holes: hash those from a zero buffer instead of
  // reading them (SEEK_DATA/SEEK_HOLE; a file system without them reports
  // the whole file as data).
  off_t end = ::lseek(fd, 0, SEEK_END);
  off_t pos = 0;
  auto fail = [&](const char* what) {
    int e = errno;
    ::close(fd);
    return Error::Errno(what, path, e);
  };
  while (pos < end) {
    off_t data = ::lseek(fd, pos, SEEK_DATA);
    if (data < 0 && errno != ENXIO) return fail("cannot seek in");
    if (data < 0) data = end;  // only a hole is left
    for (off_t z = pos; z < data;) {
      size_t n = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(kBuf), data - z));
      EVP_DigestUpdate(ctx.get(), kZeros.data(), n);
      z += static_cast<off_t>(n);
    }
    if (data == end) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) hole = end;
    for (off_t at = data; at < hole;) {
      ssize_t n = ::pread(fd, buf.get(), static_cast<size_t>(std::min<off_t>(static_cast<off_t>(kBuf), hole - at)), at);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail("cannot read");
      if (n == 0) break;  // the file shrank under us
      EVP_DigestUpdate(ctx.get(), buf.get(), static_cast<size_t>(n));
      at += n;
    }
    pos = hole;
  }
  ::close(fd);
  Sha256Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), d.data(), &len);
  return HexEncode(d.data(), d.size());
}

std::string NameUuid(std::string_view name) {
  Sha256Digest d = Sha256(std::string("slipway:") + std::string(name));
  d[6] = static_cast<uint8_t>((d[6] & 0x0f) | 0x80);  // version 8
  d[8] = static_cast<uint8_t>((d[8] & 0x3f) | 0x80);  // RFC 9562 variant
  std::string hex = HexEncode(d.data(), 16);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

}  // namespace slipway
