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
//
// A cluster's etcd PKI is three kinds of set: its etcd CA
// (etcd-ca_<cluster>/{ca-key,ca-cert}), one per member
// (etcd-member_<cluster>.<member>/{cert,key}: serving and peer, SANs the
// member's name, its address, localhost and 127.0.0.1) and the API
// server's client (etcd-client_<cluster>/{cert,key}). The etcd CA's key
// never has a secret name: it stays in the state folder.
#pragma once

#include <map>
#include <optional>
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
  /// (supplied with Put; empty when none was), and the etcd PKI (see above):
  /// etcd-ca-cert/<cluster>, etcd-cert/<cluster>.<member>,
  /// etcd-key/<cluster>.<member>, etcd-client-cert/<cluster>,
  /// etcd-client-key/<cluster>, and lb-ssh-key/<cluster> + lb-ssh-pub/<cluster>
  /// (the set lb-ssh_<cluster>/{key,pub}: the SSH key `lb sync` installs
  /// Service rules with). A leaf is issued once and kept; a CA set
  /// that is missing while certificates it issued remain is an error.
  Result<std::string> Get(const std::string& name);
  /// Names the address of etcd member `member` of `cluster`, from the plan,
  /// so that its certificate can be issued (etcd-cert/<cluster>.<member>).
  /// REQUIRES: called before Get of that member's etcd-cert or etcd-key.
  void DeclareEtcdMember(const std::string& cluster, const std::string& member, const std::string& ip);

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
  /// The files of set folder `set`: nullopt when it does not exist, an error
  /// (naming `what` and the fix) when it is partly present.
  Result<std::optional<std::vector<std::string>>> LoadSet(const std::string& set, const std::vector<std::string>& files,
                                                          const std::string& what);
  Result<std::string> GetEtcd(const std::string& kind, const std::string& owner);
  std::map<std::string, std::string> etcd_members_;  ///< "<cluster>.<member>" -> address
  /// Writes `files` as the set folder `set` in one unit (see above).
  Status WriteSet(const std::string& set, const std::vector<std::pair<std::string, std::string>>& files);
  std::string dir_;
  FileOps* ops_;
  std::map<std::string, std::string> cache_;
};

}  // namespace slipway::installer
