// X.509 issuance with OpenSSL.
#include "installer/apply/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "common/hash.h"
#include "common/strings.h"

namespace slipway::installer {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Bio MemBio(const std::string& text) { return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size()))); }

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return Error::Runtime("cannot make the X.509 extension '" + value + "'");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Ok();
}

}  // namespace

Result<Issued> IssueCert(const CertSpec& spec, const Issued* issuer) {
  if (!issuer && !spec.ca) return Error::Runtime("a self-signed certificate must be a CA (" + spec.common_name + ")");
  for (const std::string& ip : spec.ips) {
    in_addr a{};
    if (::inet_pton(AF_INET, ip.c_str(), &a) != 1) {
      return Error::Input("certificate for " + spec.common_name + ": '" + ip + "' is not an IPv4 address");
    }
  }
  Key issuer_key;
  Cert issuer_cert;
  if (issuer) {
    issuer_key.reset(PEM_read_bio_PrivateKey(MemBio(issuer->key_pem).get(), nullptr, nullptr, nullptr));
    issuer_cert.reset(PEM_read_bio_X509(MemBio(issuer->cert_pem).get(), nullptr, nullptr, nullptr));
    if (!issuer_key || !issuer_cert) {
      return Error::Runtime("the issuer of " + spec.common_name + " is not a PEM key and certificate");
    }
  }
  Key key(EVP_EC_gen("P-256"));
  if (!key) return Error::Runtime("cannot generate the key of " + spec.common_name);
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  // An hour back: a guest whose clock lags the host's must not find a
  // certificate that is not valid yet.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.days * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!spec.organization.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.organization.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer_cert.get()) : name);
  X509* signer_cert = issuer ? issuer_cert.get() : cert.get();
  Status st = Ok();
  if (spec.ca) {
    st = AddExt(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    if (st) st = AddExt(cert.get(), signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    if (st) st = AddExt(cert.get(), signer_cert, NID_subject_key_identifier, "hash");
  } else {
    st = AddExt(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE");
    if (st) st = AddExt(cert.get(), signer_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    std::vector<std::string> eku;
    if (spec.server_auth) eku.push_back("serverAuth");
    if (spec.client_auth) eku.push_back("clientAuth");
    if (st && !eku.empty()) st = AddExt(cert.get(), signer_cert, NID_ext_key_usage, Join(eku, ","));
    if (st && issuer) st = AddExt(cert.get(), signer_cert, NID_authority_key_identifier, "keyid");
  }
  std::vector<std::string> sans;
  for (const std::string& d : spec.dns_names) sans.push_back("DNS:" + d);
  for (const std::string& ip : spec.ips) sans.push_back("IP:" + ip);
  if (st && !sans.empty()) st = AddExt(cert.get(), signer_cert, NID_subject_alt_name, Join(sans, ","));
  if (!st) return std::move(st).error().Context("certificate for " + spec.common_name);
  if (!X509_sign(cert.get(), issuer ? issuer_key.get() : key.get(), EVP_sha256())) {
    return Error::Runtime("cannot sign the certificate of " + spec.common_name);
  }
  Bio cert_bio(BIO_new(BIO_s_mem()));
  Bio key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return Issued{BioText(key_bio.get()), BioText(cert_bio.get()), Sha256Hex(spki)};
}

namespace {

// RFC 4251 "string": a 32-bit big-endian length, then the bytes.
void SshString(std::string* out, const std::string& s) {
  uint32_t n = htonl(static_cast<uint32_t>(s.size()));
  out->append(reinterpret_cast<const char*>(&n), 4);
  out->append(s);
}

}  // namespace

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<SshKeyPair> MakeSshKey(const std::string& comment) {
  for (char ch : comment) {
    if (ch <= ' ' || ch > '~') return Error::Input("an SSH key comment must be printable ASCII without spaces");
  }
  Key key(EVP_EC_gen("P-256"));
  if (!key) return Error::Runtime("cannot generate an SSH key");
  // The public point, uncompressed (0x04 || X || Y), as RFC 5656 puts it.
  unsigned char point[65];
  size_t len = 0;
  if (!EVP_PKEY_get_octet_string_param(key.get(), "encoded-pub-key", point, sizeof point, &len) || len != 65) {
    return Error::Runtime("cannot read the SSH key's public point");
  }
  std::string blob;
  SshString(&blob, "ecdsa-sha2-nistp256");
  SshString(&blob, "nistp256");
  SshString(&blob, std::string(reinterpret_cast<const char*>(point), len));
  std::string b64 = Base64(blob);
  Bio key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return SshKeyPair{BioText(key_bio.get()), "ecdsa-sha2-nistp256 " + b64 + (comment.empty() ? "" : " " + comment)};
}

}  // namespace slipway::installer
