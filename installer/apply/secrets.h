// Secrets generated at apply time and kept in the state folder, mode 0600,
// in a 0700 folder. The plan only names them; Fill() replaces
// "{{secret:NAME}}" in a file's text. Values never reach a log.
//
// Secrets that belong together form a set, stored as one folder: a cluster's
// CA is ca_<cluster>/{ca-key,ca-cert,ca-cert-hash}. A set is generated in
// memory, written into a temp folder, fsynced and renamed into place as one
// unit, so a crash or a full disk leaves the whole set or none of it. A set
// found only partly present is an error, never re-minted: a second CA would
// split a running cluster. A single secret (a token, a key, a password) is a
// set of one: one file written durably (temp, fsync, rename).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/file_ops.h"

namespace slipway::installer {

class SecretStore {
 public:
  /// `dir` is created 0700 when missing. Temp folders left by a crash before
  /// a set was renamed into place are removed (nothing ever read them).
  /// `ops` must outlive the store (FileOps::Real() by default).
  static Result<SecretStore> Open(const std::string& dir, FileOps* ops = &FileOps::Real());

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
  /// {{secret:NAME|yaml}} is replaced by the value as a YAML double-quoted
  /// scalar (YamlQuote).
  Result<std::string> Fill(const std::string& text);

 private:
  SecretStore(std::string dir, FileOps* ops) : dir_(std::move(dir)), ops_(ops) {}
  std::string PathOf(const std::string& name) const;
  /// Reads the CA set of `cluster` into the cache; false when none exists,
  /// an error when one is partly present.
  Result<bool> LoadCa(const std::string& cluster);
  Status MakeCa(const std::string& cluster);
  /// Writes `files` as the set folder `set` in one unit (see above).
  Status WriteSet(const std::string& set, const std::vector<std::pair<std::string, std::string>>& files);
  std::string dir_;
  FileOps* ops_;
  std::map<std::string, std::string> cache_;
};

}  // namespace slipway::installer
