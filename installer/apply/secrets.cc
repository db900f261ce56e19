// Secret generation (OpenSSL RAND and X.509) and substitution.
#include "installer/apply/secrets.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "common/atomic_file.h"
#include "common/escape.h"
#include "common/hash.h"
#include "common/strings.h"
#include "installer/apply/pki.h"

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

}  // namespace

namespace {

constexpr const char* kTempPrefix = ".tmp-";
const std::vector<std::string> kCaFiles = {"ca-key", "ca-cert", "ca-cert-hash"};

// Secret names come from plans: keep them to one plain file name.
Status CheckName(const std::string& name) {
  bool ok = !name.empty() && name.front() != '.' && name.find("..") == std::string::npos &&
            std::count(name.begin(), name.end(), '/') <= 1 && name.back() != '/' &&
            name.find("/.") == std::string::npos;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.' || c == '/');
  }
  if (!ok) return Error::Input("secret name '" + name + "' is not KIND/NAME of letters, digits, '-', '_' and '.'");
  return Ok();
}

}  // namespace

Result<SecretStore> SecretStore::Open(const std::string& dir, FileOps* ops) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Error::Errno("cannot create", dir, errno);
  ::chmod(dir.c_str(), 0700);
  // A temp set folder (or file) is what a crash before its rename leaves:
  // never in place, never read, so removing it loses nothing.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (StartsWith(name, kTempPrefix) || name.find(".tmp.") != std::string::npos) {
      if (auto st = ops->RemoveAll(e.path().string()); !st) return std::move(st).error();
    }
  }
  return SecretStore(dir, ops);
}

std::string SecretStore::PathOf(const std::string& name) const {
  std::string file = name;
  for (char& c : file) {
    if (c == '/') c = '_';
  }
  return dir_ + "/" + file;
}

Status SecretStore::Put(const std::string& name, const std::string& value) {
  if (auto st = CheckName(name); !st) return st;
  if (auto st = WriteFileDurably(*ops_, PathOf(name), value, 0600); !st) return st;
  cache_[name] = value;
  return Ok();
}

Status SecretStore::WriteSet(const std::string& set, const std::vector<std::pair<std::string, std::string>>& files) {
  std::string tmp = dir_ + "/" + kTempPrefix + set + "." + std::to_string(::getpid());
  std::string final_dir = dir_ + "/" + set;
  Status st = ops_->RemoveAll(tmp);
  if (st) st = ops_->MakeDir(tmp, 0700);
  for (const auto& [file, content] : files) {
    if (st) st = ops_->WriteFile(tmp + "/" + file, content, 0600);
    if (st) st = ops_->Fsync(tmp + "/" + file);
  }
  if (st) st = ops_->Fsync(tmp);
  if (st) st = ops_->Rename(tmp, final_dir);
  if (!st) {
    (void)ops_->RemoveAll(tmp);
    return std::move(st).error().Context("writing secret set " + final_dir + " (nothing was put in place)");
  }
  // In place now: a failed fsync of the parent is reported, and the rerun
  // finds and keeps this set.
  return ops_->Fsync(dir_);
}

Result<bool> SecretStore::LoadCa(const std::string& cluster) {
  std::string set_dir = dir_ + "/ca_" + cluster;
  std::vector<std::string> paths;
  bool is_set = std::filesystem::is_directory(set_dir);
  for (const std::string& f : kCaFiles) paths.push_back(is_set ? set_dir + "/" + f : PathOf(f + "/" + cluster));
  // Before secret sets, the three were loose files; a complete legacy trio
  // is read as it is.
  size_t present = 0;
  for (const std::string& p : paths) present += ::access(p.c_str(), F_OK) == 0;
  if (present == 0 && !is_set) return false;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (::access(paths[i].c_str(), F_OK) != 0) {
      return Error::Runtime(
          "the CA of cluster '" + cluster + "' is only partly present: " + paths[i] +
          " is missing. Slipway never writes part of a set, so it was removed or lost. Restore it from a backup of " +
          (is_set ? set_dir : dir_) +
          "; only if the cluster was never created, remove the remaining CA files and run again to make a new CA");
    }
  }
  for (size_t i = 0; i < paths.size(); ++i) {
    auto v = ReadFile(paths[i]);
    if (!v) return std::move(v).error();
    cache_[kCaFiles[i] + "/" + cluster] = std::move(*v);
  }
  return true;
}

// A CA per cluster: EC P-256 key, self-signed, 10 years. kubeadm uses an
// existing /etc/kubernetes/pki/ca.{crt,key}, so joiners can pin its hash
// before the cluster exists.
Status SecretStore::MakeCa(const std::string& cluster) {
  CertSpec spec;
  spec.common_name = "kubernetes";
  spec.ca = true;
  auto ca = IssueCert(spec, nullptr);
  if (!ca) return std::move(ca).error().Context("the CA of cluster " + cluster);
  // The three are written as one set: never a certificate without its key,
  // never a hash of a CA that is not on disk.
  std::vector<std::pair<std::string, std::string>> files = {
      {"ca-key", ca->key_pem}, {"ca-cert", ca->cert_pem}, {"ca-cert-hash", "sha256:" + ca->spki_sha256_hex}};
  if (auto st = WriteSet("ca_" + cluster, files); !st) return st;
  for (auto& [file, content] : files) cache_[file + "/" + cluster] = std::move(content);
  return Ok();
}

void SecretStore::DeclareEtcdMember(const std::string& cluster, const std::string& member, const std::string& ip) {
  etcd_members_[cluster + "." + member] = ip;
}

Result<std::optional<std::vector<std::string>>> SecretStore::LoadSet(const std::string& set,
                                                                     const std::vector<std::string>& files,
                                                                     const std::string& what) {
  std::string set_dir = dir_ + "/" + set;
  if (!std::filesystem::is_directory(set_dir)) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  for (const std::string& f : files) {
    std::string path = set_dir + "/" + f;
    if (::access(path.c_str(), F_OK) != 0) {
      return Error::Runtime(what + " is only partly present: " + path +
                            " is missing. Slipway never writes part of a set, so it was removed or lost. Restore " +
                            set_dir + " from a backup; only if the cluster was never created, remove " + set_dir +
                            " and run again to issue it anew");
    }
    auto v = ReadFile(path);
    if (!v) return std::move(v).error();
    out.push_back(std::move(*v));
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

// The etcd PKI of a cluster (see secrets.h). The CA is made on first use;
// each leaf is issued by it on first use and kept.
Result<std::string> SecretStore::GetEtcd(const std::string& kind, const std::string& owner) {
  bool member = kind == "etcd-cert" || kind == "etcd-key";
  bool client = kind == "etcd-client-cert" || kind == "etcd-client-key";
  if (!member && !client && kind != "etcd-ca-cert") return Error::Runtime("unknown kind of secret '" + kind + "'");
  std::string cluster = member ? owner.substr(0, owner.find('.')) : owner;
  if (cluster.empty() || (member && owner.find('.') == std::string::npos)) {
    return Error::Input("secret '" + kind + "/" + owner + "' names no cluster" +
                        (member ? " and member (etcd-cert/<cluster>.<member>)" : ""));
  }
  const std::string ca_set = "etcd-ca_" + cluster;
  auto ca_files = LoadSet(ca_set, {"ca-key", "ca-cert"}, "the etcd CA of cluster '" + cluster + "'");
  if (!ca_files) return std::move(ca_files).error();
  Issued ca;
  if (*ca_files) {
    ca = {(**ca_files)[0], (**ca_files)[1], ""};
  } else {
    // A new etcd CA while certificates of the old one remain would split a
    // running cluster's members: never minted silently.
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      std::string name = e.path().filename().string();
      if (StartsWith(name, "etcd-member_" + cluster + ".") || name == "etcd-client_" + cluster) {
        return Error::Runtime("the etcd CA of cluster '" + cluster + "' (" + dir_ + "/" + ca_set +
                              ") is missing, but " + e.path().string() +
                              ", which it issued, remains. Restore the CA from a backup of " + dir_ +
                              "; only if the cluster was never created, remove its etcd-* sets and run again");
      }
    }
    CertSpec ca_spec;
    ca_spec.common_name = "etcd-ca";
    ca_spec.ca = true;
    auto made = IssueCert(ca_spec, nullptr);
    if (!made) return std::move(made).error().Context("the etcd CA of cluster " + cluster);
    if (auto st = WriteSet(ca_set, {{"ca-key", made->key_pem}, {"ca-cert", made->cert_pem}}); !st) {
      return std::move(st).error();
    }
    ca = std::move(*made);
  }
  cache_["etcd-ca-cert/" + cluster] = ca.cert_pem;
  if (kind == "etcd-ca-cert") return ca.cert_pem;

  std::string set;
  CertSpec spec;
  if (member) {
    std::string name = owner.substr(owner.find('.') + 1);
    set = "etcd-member_" + owner;
    spec.common_name = name;
    spec.server_auth = true;
    spec.client_auth = true;  // etcd's peers authenticate each other with the same certificate
    spec.dns_names = {name, "localhost"};
    if (auto it = etcd_members_.find(owner); it != etcd_members_.end()) spec.ips = {it->second, "127.0.0.1"};
  } else {
    set = "etcd-client_" + cluster;
    spec.common_name = "kube-apiserver-etcd-client";
    spec.organization = "system:masters";
    spec.client_auth = true;
  }
  const std::string cert_name = (member ? "etcd-cert/" : "etcd-client-cert/") + owner;
  const std::string key_name = (member ? "etcd-key/" : "etcd-client-key/") + owner;
  auto leaf = LoadSet(set, {"cert", "key"}, "the etcd certificate set " + set);
  if (!leaf) return std::move(leaf).error();
  if (*leaf) {
    cache_[cert_name] = (**leaf)[0];
    cache_[key_name] = (**leaf)[1];
  } else {
    if (member && spec.ips.empty()) {
      return Error::Runtime("etcd member '" + spec.common_name + "' of cluster '" + cluster +
                            "' has no planned address; its certificate is issued only for a member of the plan");
    }
    auto issued = IssueCert(spec, &ca);
    if (!issued) return std::move(issued).error();
    if (auto st = WriteSet(set, {{"cert", issued->cert_pem}, {"key", issued->key_pem}}); !st) {
      return std::move(st).error();
    }
    cache_[cert_name] = issued->cert_pem;
    cache_[key_name] = issued->key_pem;
  }
  return cache_.at(kind + "/" + owner);
}

Result<std::string> SecretStore::Get(const std::string& name) {
  if (auto it = cache_.find(name); it != cache_.end()) return it->second;
  if (auto st = CheckName(name); !st) return std::move(st).error();
  std::string kind = name.substr(0, name.find('/'));
  std::string owner = name.find('/') == std::string::npos ? "" : name.substr(name.find('/') + 1);
  if (kind == "ca-cert" || kind == "ca-key" || kind == "ca-cert-hash") {
    auto loaded = LoadCa(owner);
    if (!loaded) return std::move(loaded).error();
    if (!*loaded) {
      if (auto st = MakeCa(owner); !st) return std::move(st).error();
    }
    return cache_.at(name);
  }
  if (StartsWith(kind, "etcd-")) return GetEtcd(kind, owner);
  if (kind == "lb-ssh-key" || kind == "lb-ssh-pub") {
    // The per-cluster key `lb sync` logs in to the load balancers with: one
    // set, so that a crash never leaves a public key without its private key.
    if (owner.empty()) return Error::Input("secret '" + name + "' names no cluster (" + kind + "/<cluster>)");
    const std::string set = "lb-ssh_" + owner;
    auto files = LoadSet(set, {"key", "pub"}, "the load-balancer SSH key of cluster '" + owner + "'");
    if (!files) return std::move(files).error();
    if (!*files) {
      auto made = MakeSshKey("slipway-lb-" + owner);
      if (!made) return std::move(made).error();
      if (auto st = WriteSet(set, {{"key", made->private_pem}, {"pub", made->public_line}}); !st) {
        return std::move(st).error();
      }
      files = std::optional<std::vector<std::string>>({made->private_pem, made->public_line});
    }
    cache_["lb-ssh-key/" + owner] = (**files)[0];
    cache_["lb-ssh-pub/" + owner] = (**files)[1];
    return cache_.at(name);
  }
  std::string path = PathOf(name);
  if (::access(path.c_str(), F_OK) == 0) {
    auto v = ReadFile(path);
    if (!v) return std::move(v).error();
    cache_[name] = *v;
    return *v;
  }
  const std::string lower = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string value;
  if (kind == "bootstrap-token") {
    value = RandomFrom(lower, 6) + "." + RandomFrom(lower, 16);
  } else if (kind == "certificate-key") {
    std::string b = RandomBytes(32);
    value = HexEncode(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  } else if (kind == "encryption-key") {
    value = Base64(RandomBytes(32));
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
    // "{{secret:NAME|yaml}}" lands as a YAML double-quoted scalar: a value
    // (an SSH key comment, say) can never end the quotes it sits in.
    std::string ref = text.substr(start + 9, end - start - 9);
    std::string filter;
    if (size_t bar = ref.find('|'); bar != std::string::npos) {
      filter = ref.substr(bar + 1);
      ref.resize(bar);
      if (filter != "yaml") return Error::Input("unknown secret filter '" + filter + "' in {{secret:" + ref + "|...}}");
    }
    auto value = Get(ref);
    if (!value) return std::move(value).error();
    if (filter == "yaml") {
      out += text.substr(pos, start - pos) + YamlQuote(*value);
      pos = end + 2;
      continue;
    }
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
