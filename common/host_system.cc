// The host system manifest's reader and writer.
#include "common/host_system.h"

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/json_text.h"

namespace slipway {

namespace {

constexpr const char* kSchema = "slipway.host-system/v1";

nlohmann::json FileJson(const HostImageFile& f) { return {{"file", f.file}, {"bytes", f.bytes}, {"sha256", f.sha256}}; }

}  // namespace

Status WriteHostSystemManifest(const std::string& dir, const HostSystemManifest& m) {
  nlohmann::json j = {{"schema", kSchema},      {"esp", FileJson(m.esp)},       {"system", FileJson(m.system)},
                      {"mbr", FileJson(m.mbr)}, {"system_uuid", m.system_uuid}, {"cmdline", m.cmdline}};
  return WriteFileAtomic(dir + "/" + kHostSystemManifest, DumpJson(j, 2) + "\n", 0644);
}

Result<HostSystemManifest> ReadHostSystemManifest(const std::string& dir) {
  std::string path = dir + "/" + kHostSystemManifest;
  auto text = ReadFile(path);
  if (!text) return std::move(text).error();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  auto bad = [&](const std::string& what) {
    return Error::Input(path + ": " + what + "; rebuild the ISO with `slipway build iso`");
  };
  if (!j.is_object()) return bad("is not JSON");
  if (j.value("schema", "") != kSchema) return bad("schema is not " + std::string(kSchema));
  HostSystemManifest m;
  auto file = [&](const char* key, HostImageFile& f) -> bool {
    if (!j.contains(key) || !j[key].is_object()) return false;
    const auto& o = j[key];
    if (!o.contains("file") || !o["file"].is_string() || !o.contains("bytes") || !o["bytes"].is_number_unsigned() ||
        !o.contains("sha256") || !o["sha256"].is_string())
      return false;
    f.file = o["file"].get<std::string>();
    f.bytes = o["bytes"].get<uint64_t>();
    f.sha256 = o["sha256"].get<std::string>();
    // Names only, never paths: the manifest cannot point outside its folder.
    return !f.file.empty() && f.file.find('/') == std::string::npos && f.file != "..";
  };
  if (!file("esp", m.esp)) return bad("'esp' is missing or not {file, bytes, sha256}");
  if (!file("system", m.system)) return bad("'system' is missing or not {file, bytes, sha256}");
  if (!file("mbr", m.mbr)) return bad("'mbr' is missing or not {file, bytes, sha256}");
  m.system_uuid = j.value("system_uuid", "");
  m.cmdline = j.value("cmdline", "");
  return m;
}

}  // namespace slipway
