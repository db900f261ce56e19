// X.509 issuance for the secrets that Slipway mints at apply time: a
// cluster's Kubernetes CA, its etcd CA, and the etcd member and client
// certificates that the etcd CA signs. Keys are EC P-256, made with
// OpenSSL in memory; nothing here touches a file (SecretStore writes them).
#pragma once

#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::installer {

/// What a certificate says. A CA gets basicConstraints CA:TRUE and
/// keyCertSign; a leaf gets digitalSignature + keyEncipherment and the
/// extended key usages asked for.
struct CertSpec {
  std::string common_name;
  std::string organization;  ///< O=, empty for none
  bool ca = false;
  bool server_auth = false;
  bool client_auth = false;
  std::vector<std::string> dns_names;  ///< subjectAltName DNS entries
  std::vector<std::string> ips;        ///< subjectAltName IP entries (IPv4 dotted quads)
  long days = 3650;
};

struct Issued {
  std::string key_pem;          ///< PKCS#8 private key
  std::string cert_pem;         ///< the certificate
  std::string spki_sha256_hex;  ///< SHA-256 of the DER SubjectPublicKeyInfo (kubeadm's CA pin)
};

/// Makes a key and a certificate for `spec`, signed by `issuer` (its
/// key_pem and cert_pem), or self-signed when `issuer` is null.
/// REQUIRES: a self-signed spec is a CA. An address that is not an IPv4
/// dotted quad, or a PEM that does not parse, is an error naming it.
Result<Issued> IssueCert(const CertSpec& spec, const Issued* issuer);

/// An SSH key pair for Slipway's own logins (the per-cluster key that
/// `lb sync` installs Service rules with): EC P-256, the private key as
/// PKCS#8 PEM (which OpenSSH reads), the public key as one authorized_keys
/// line "ecdsa-sha2-nistp256 BASE64 COMMENT". `comment` must be printable
/// ASCII without spaces.
/// Standard base64 (RFC 4648, padded, no line breaks).
std::string Base64(const std::string& data);

struct SshKeyPair {
  std::string private_pem;
  std::string public_line;
};
Result<SshKeyPair> MakeSshKey(const std::string& comment);

}  // namespace slipway::installer
