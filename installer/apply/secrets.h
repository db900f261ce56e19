// Secrets generated at apply time and kept in the state folder, one file per
// secret, mode 0600, in a 0700 folder. The plan only names them; Fill()
// replaces "{{secret:NAME}}" in a file's text. Values never reach a log.
#pragma once

#include <map>
#include <string>

#include "common/error.h"

namespace slipway::installer {

class SecretStore {
 public:
  /// `dir` is created 0700 when missing.
  static Result<SecretStore> Open(const std::string& dir);

  /// The secret's value, generated and stored on first use. Kinds follow the
  /// name's prefix: bootstrap-token (kubeadm token), certificate-key (64 hex),
  /// encryption-key (32 random bytes, base64), ca-cert / ca-key / ca-cert-hash
  /// (a per-cluster CA made with OpenSSL), password, ssh-authorized-keys
  /// (supplied with Put; empty when none was).
  Result<std::string> Get(const std::string& name);
  /// Stores a supplied secret (e.g. SSH public keys from the answer file).
  Status Put(const std::string& name, const std::string& value);

  /// Replaces every {{secret:NAME}}; a multi-line value keeps the
  /// indentation of the line it lands on (YAML block scalars stay valid).
  Result<std::string> Fill(const std::string& text);

 private:
  explicit SecretStore(std::string dir) : dir_(std::move(dir)) {}
  std::string PathOf(const std::string& name) const;
  Status MakeCa(const std::string& cluster);
  std::string dir_;
  std::map<std::string, std::string> cache_;
};

}  // namespace slipway::installer
