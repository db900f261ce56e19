// Reading the [install_disk] table.
#include "installer/model/install_disk_rule.h"

#include "common/strings.h"

namespace slipway::installer {

std::string_view DiskMediaName(DiskMedia m) {
  switch (m) {
    case DiskMedia::kAny:
      return "any";
    case DiskMedia::kSsd:
      return "ssd";
    case DiskMedia::kHdd:
      return "hdd";
    case DiskMedia::kNvme:
      return "nvme";
  }
  return "any";
}

bool InstallDiskRule::IsDefault() const {
  return serial.empty() && wwn.empty() && by_path.empty() && model.empty() && transport.empty() && !min_gib &&
         !max_gib && media == DiskMedia::kAny;
}

std::string InstallDiskRule::Describe() const {
  std::vector<std::string> parts;
  auto q = [](const std::string& v) { return "\"" + v + "\""; };
  if (!serial.empty()) parts.push_back("serial = " + q(serial));
  if (!wwn.empty()) parts.push_back("wwn = " + q(wwn));
  if (!by_path.empty()) parts.push_back("by_path = " + q(by_path));
  if (!model.empty()) parts.push_back("model = " + q(model));
  if (!transport.empty()) parts.push_back("transport = " + q(transport));
  if (min_gib) parts.push_back("min_gib = " + std::to_string(*min_gib));
  if (max_gib) parts.push_back("max_gib = " + std::to_string(*max_gib));
  if (media != DiskMedia::kAny) parts.push_back("media = " + q(std::string(DiskMediaName(media))));
  std::string text = IsDefault() ? "the smallest non-rotational, non-removable disk of at least " +
                                       std::to_string(kDefaultInstallDiskMinGib) + " GiB"
                                 : Join(parts, ", ");
  if (wipe) text += ", wipe = true";
  return text;
}

std::optional<InstallDiskRule> ReadInstallDiskRule(TableReader& parent, const std::string& file, Diagnostics* diags) {
  if (!parent.Has("install_disk")) return std::nullopt;
  const toml::table* t = parent.Table("install_disk", Need::kOptional);
  if (!t) return std::nullopt;  // wrong type: reported by Table()
  std::string where = parent.where().empty() ? "[install_disk]" : parent.where() + " install_disk";
  TableReader r(*t, file, where, diags);
  InstallDiskRule rule;
  rule.pos = r.TablePos();
  auto non_empty = [&](const char* key, std::string* out) {
    if (auto v = r.String(key, Need::kOptional)) {
      if (Trim(*v).empty()) r.ErrorAt(key, std::string("'") + key + "' is empty; remove it or give a value");
      *out = std::string(Trim(*v));
    }
  };
  non_empty("serial", &rule.serial);
  non_empty("wwn", &rule.wwn);
  non_empty("by_path", &rule.by_path);
  if (StartsWith(rule.by_path, "/dev/disk/by-path/")) rule.by_path = rule.by_path.substr(18);
  non_empty("model", &rule.model);
  rule.transport = r.Enum("transport", Need::kOptional, {"nvme", "sata/scsi", "virtio", "usb"}).value_or("");
  rule.min_gib = r.Int("min_gib", Need::kOptional, 1, int64_t{1} << 30);
  rule.max_gib = r.Int("max_gib", Need::kOptional, 1, int64_t{1} << 30);
  if (rule.min_gib && rule.max_gib && *rule.min_gib > *rule.max_gib) {
    r.ErrorAt("max_gib", "'max_gib' (" + std::to_string(*rule.max_gib) + ") is below 'min_gib' (" +
                             std::to_string(*rule.min_gib) + "); no disk can match");
  }
  if (auto m = r.Enum("media", Need::kOptional, {"ssd", "hdd", "nvme"})) {
    rule.media = *m == "ssd" ? DiskMedia::kSsd : *m == "hdd" ? DiskMedia::kHdd : DiskMedia::kNvme;
  }
  rule.wipe = r.Bool("wipe", Need::kOptional).value_or(false);
  r.Finish();
  return rule;
}

}  // namespace slipway::installer
