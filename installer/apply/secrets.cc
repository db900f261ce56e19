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

#include <algorithm>
#include <filesystem>
#include <memory>

#include "common/atomic_file.h"
#include "common/escape.h"
#include "common/hash.h"
#include "common/strings.h"

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
  // The three are written as one set: never a certificate without its key,
  // never a hash of a CA that is not on disk.
  std::vector<std::pair<std::string, std::string>> files = {{"ca-key", BioText(key_bio.get())},
                                                            {"ca-cert", BioText(cert_bio.get())},
                                                            {"ca-cert-hash", "sha256:" + Sha256Hex(spki)}};
  if (auto st = WriteSet("ca_" + cluster, files); !st) return st;
  for (auto& [file, content] : files) cache_[file + "/" + cluster] = std::move(content);
  return Ok();
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
