// Reading the Kubernetes record of an image manifest.
#include "common/kubernetes.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/input_file.h"

namespace slipway {

Result<std::string> ImageKubernetesVersion(const std::string& manifest_path) {
  std::error_code ec;
  if (!std::filesystem::exists(manifest_path, ec)) return std::string();
  auto text = ReadInputFile(manifest_path, kMaxJsonBytes);
  if (!text) return std::move(text).error();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error::Input(manifest_path + ": not an image manifest (invalid JSON)");
  auto k = j.find(kImageManifestKubernetes);
  if (k == j.end() || !k->is_object()) return std::string();
  auto v = k->find("version");
  if (v == k->end() || !v->is_string()) return std::string();
  return v->get<std::string>();
}

}  // namespace slipway
