// Secret generation (OpenSSL RAND and X.509) and substitution.
#include "installer/apply/secrets.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "common/atomic_file.h"
#include "common/hash.h"

namespace slipway::installer {

namespace {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

std::string RandomFrom(const std::string& alphabet, size_t n) {
  std::string bytes = RandomBytes(n), out;
  for (unsigned char b : bytes) out += alphabet[b % alphabet.size()];
  return out;
}

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

Result<SecretStore> SecretStore::Open(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Error::Errno("cannot create", dir, errno);
  ::chmod(dir.c_str(), 0700);
  return SecretStore(dir);
}

std::string SecretStore::PathOf(const std::string& name) const {
  std::string file = name;
  for (char& c : file) {
    if (c == '/') c = '_';
  }
  return dir_ + "/" + file;
}

Status SecretStore::Put(const std::string& name, const std::string& value) {
  if (auto st = WriteFileAtomic(PathOf(name), value, 0600); !st) return st;
  cache_[name] = value;
  return Ok();
}

// A CA per cluster: EC P-256 key, self-signed, 10 years. kubeadm uses an
// existing /etc/kubernetes/pki/ca.{crt,key}, so joiners can pin its hash
// before the cluster exists.
Status SecretStore::MakeCa(const std::string& cluster) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) return Error::Runtime("cannot generate the CA key of cluster " + cluster);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_guard(key, EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  std::string serial = RandomBytes(16);
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), 16, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("kubernetes"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE");
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  if (!X509_sign(cert.get(), key, EVP_sha256())) return Error::Runtime("cannot sign the CA of cluster " + cluster);

  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  // kubeadm's discovery hash: SHA-256 of the DER SubjectPublicKeyInfo.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  // The key is written first: a crash in between leaves no certificate
  // without its key, and the next run regenerates all three.
  if (auto st = Put("ca-key/" + cluster, BioText(key_bio.get())); !st) return st;
  if (auto st = Put("ca-cert/" + cluster, BioText(cert_bio.get())); !st) return st;
  return Put("ca-cert-hash/" + cluster, "sha256:" + Sha256Hex(spki));
}

Result<std::string> SecretStore::Get(const std::string& name) {
  if (auto it = cache_.find(name); it != cache_.end()) return it->second;
  std::string path = PathOf(name);
  if (::access(path.c_str(), F_OK) == 0) {
    auto v = ReadFile(path);
    if (!v) return std::move(v).error();
    cache_[name] = *v;
    return *v;
  }
  std::string kind = name.substr(0, name.find('/'));
  std::string owner = name.find('/') == std::string::npos ? "" : name.substr(name.find('/') + 1);
  const std::string lower = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string value;
  if (kind == "bootstrap-token") {
    value = RandomFrom(lower, 6) + "." + RandomFrom(lower, 16);
  } else if (kind == "certificate-key") {
    std::string b = RandomBytes(32);
    value = HexEncode(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  } else if (kind == "encryption-key") {
    value = Base64(RandomBytes(32));
  } else if (kind == "ca-cert" || kind == "ca-key" || kind == "ca-cert-hash") {
    if (auto st = MakeCa(owner); !st) return std::move(st).error();
    return cache_.at(name);
  } else if (kind == "password") {
    value = RandomFrom(lower + "ABCDEFGHIJKLMNOPQRSTUVWXYZ!#%+-=", 24);
  } else if (kind == "ssh-authorized-keys") {
    value = "";
  } else {
    return Error::Runtime("unknown kind of secret '" + name + "'");
  }
  if (auto st = Put(name, value); !st) return std::move(st).error();
  return value;
}

Result<std::string> SecretStore::Fill(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = text.find("{{secret:", pos);
    if (start == std::string::npos) break;
    size_t end = text.find("}}", start);
    if (end == std::string::npos) break;
    auto value = Get(text.substr(start + 9, end - start - 9));
    if (!value) return std::move(value).error();
    size_t line_start = text.rfind('\n', start);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    size_t indent = text.find_first_not_of(' ', line_start) - line_start;
    std::string v = *value;
    while (!v.empty() && v.back() == '\n') v.pop_back();
    std::string indented;
    for (char c : v) {
      indented += c;
      if (c == '\n') indented += std::string(indent, ' ');
    }
    out += text.substr(pos, start - pos) + indented;
    pos = end + 2;
  }
  return out + text.substr(pos);
}

}  // namespace slipway::installer
