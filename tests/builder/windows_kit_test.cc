// The Windows node kit: media checks, autounattend.xml (parsed with libxml2),
// the answer ISO read back with libarchive, and no secret in any file.
#include "builder/windows_kit.h"

#include <archive.h>
#include <archive_entry.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <catch2/catch.hpp>
#include <map>

#include "common/hash.h"
#include "test_bundle.h"
#include "test_util.h"

using namespace slipway;
using namespace slipway::builder;

namespace {

ImageDefinition WinDef() {
  ImageDefinition d;
  d.name = "windows-node";
  d.role = ImageRole::kWindowsNode;
  d.file = "images/windows-node.toml";
  d.windows = WindowsSpec{"Windows Server 2022 SERVERSTANDARDCORE", 1, "en-US", {5986, 10250}};
  return d;
}

// A fake UDF image: the anchor volume descriptor (tag 2, location 256) at sector 256.
void FakeUdf(const std::string& path, size_t mib) {
  std::string img(mib << 20, '\0');
  img[256 * 2048] = 2;
  img[256 * 2048 + 12] = 0;
  img[256 * 2048 + 13] = 1;  // 256, little-endian
  testing::WriteText(path, img);
}

}  // namespace

TEST_CASE("Windows media must be a UDF ISO or an install.wim") {
  testing::TempDir t;
  FakeUdf(t / "server.iso", 2);
  CHECK(*CheckWindowsMedia(t / "server.iso", 1) == "iso");
  testing::WriteText(t / "install.wim", std::string("MSWIM\0\0\0", 8) + std::string(100, 'x'));
  CHECK(*CheckWindowsMedia(t / "install.wim", 1) == "wim");
  testing::WriteText(t / "not.iso", std::string(1 << 20, 'x'));
  auto bad = CheckWindowsMedia(t / "not.iso", 1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().ToString().find("neither an install.wim (no MSWIM header) nor a UDF image") != std::string::npos);
  auto small = CheckWindowsMedia(t / "server.iso", 3000);
  REQUIRE_FALSE(small.ok());
  CHECK(small.error().ToString().find("at least 3000 MiB ([windows] min_media_mib)") != std::string::npos);
  CHECK_FALSE(CheckWindowsMedia(t / "missing.iso", 1).ok());
}

TEST_CASE("autounattend.xml is well formed and carries every hardening setting") {
  std::string xml = AutounattendXml(WinDef());
  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "autounattend.xml", nullptr, XML_PARSE_NONET);
  REQUIRE(doc);
  xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
  xmlXPathRegisterNs(ctx, BAD_CAST "u", BAD_CAST "urn:schemas-microsoft-com:unattend");
  auto text = [&](const char* xpath) {
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    std::string out;
    if (r && r->nodesetval && r->nodesetval->nodeNr > 0) {
      xmlChar* c = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
      out = reinterpret_cast<char*>(c);
      xmlFree(c);
    }
    xmlXPathFreeObject(r);
    return out;
  };
  auto count = [&](const char* xpath) {
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST xpath, ctx);
    int n = r && r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    return n;
  };
  CHECK(text("//u:InstallFrom/u:MetaData/u:Value") == "Windows Server 2022 SERVERSTANDARDCORE");
  CHECK(count("//u:CreatePartition") == 3);
  CHECK(text("//u:AdministratorPassword/u:Value") == "{{secret:password/windows-admin}}");
  std::map<std::string, std::string> steps;
  xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST "//u:RunSynchronousCommand", ctx);
  for (int i = 0; r && r->nodesetval && i < r->nodesetval->nodeNr; ++i) {
    std::string desc, path;
    for (xmlNodePtr c = r->nodesetval->nodeTab[i]->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      xmlChar* v = xmlNodeGetContent(c);
      if (std::string(reinterpret_cast<const char*>(c->name)) == "Description") desc = reinterpret_cast<char*>(v);
      if (std::string(reinterpret_cast<const char*>(c->name)) == "Path") path = reinterpret_cast<char*>(v);
      xmlFree(v);
    }
    steps[desc] = path;
  }
  xmlXPathFreeObject(r);
  xmlXPathFreeContext(ctx);
  xmlFreeDoc(doc);
  CHECK(steps["SMBv1 off"].find("-EnableSMB1Protocol $false") != std::string::npos);
  CHECK(steps["LLMNR off"].find("EnableMulticast /t REG_DWORD /d 0") != std::string::npos);
  CHECK(steps["NetBIOS off"].find("TcpipNetbiosOptions=2") != std::string::npos);
  CHECK(steps["RDP off"].find("fDenyTSConnections /t REG_DWORD /d 1") != std::string::npos);
  CHECK(steps["Defender on"].find("-DisableRealtimeMonitoring $false") != std::string::npos);
  CHECK(steps["TLS 1.2+ only"].find("'TLS 1.0','TLS 1.1'") != std::string::npos);
  CHECK(steps["Containers feature"].find("Install-WindowsFeature -Name Containers") != std::string::npos);
  CHECK(steps["OpenSSH server"].find("OpenSSH.Server") != std::string::npos);
  CHECK(steps["WinRM over HTTPS only"].find("-Transport HTTPS") != std::string::npos);
  CHECK(steps["Firewall on, node ports only"].find("-DefaultInboundAction Block") != std::string::npos);
  CHECK(steps["Firewall on, node ports only"].find("-LocalPort 5986,10250,22") != std::string::npos);
}

TEST_CASE("autounattend.xml needs no Secure Boot or TPM bypass: uefi-secure VMs have both") {
  std::string xml = AutounattendXml(WinDef());
  for (const char* bypass : {"LabConfig", "BypassSecureBootCheck", "BypassTPMCheck", "BypassRAMCheck"}) {
    INFO(bypass);
    CHECK(xml.find(bypass) == std::string::npos);
  }
}

TEST_CASE("the kit's answer ISO reads back with libarchive and holds no secret") {
  testing::TempDir t;
  FakeUdf(t / "server.iso", 2);
  testing::WriteText(t / "bundle/containerd.zip", "zip");
  testing::WriteText(t / "bundle/kubelet.exe", "exe");
  REQUIRE(
      BuildWindowsKit(WinDef(), t / "server.iso", {.artifacts_dir = t / "bundle", .kubernetes_bundle = ""}, t / "out")
          .ok());
  auto files = testing::ReadIsoFiles(t / "out/windows-node-answer.iso");
  REQUIRE(files.count("autounattend.xml"));
  REQUIRE(files.count("slipway/firstboot.ps1"));
  // The script pins each artifact's sha256 (of "zip").
  CHECK(files["slipway/firstboot.ps1"].find("'containerd.zip' = '" + Sha256Hex("zip") + "'") != std::string::npos);
  for (const auto& [name, body] : files) {
    INFO(name);
    // Only references: no password, token or key in any file.
    bool holds_reference = body.find("<Value>{{secret:password/windows-admin}}</Value>") != std::string::npos;
    CHECK((holds_reference || name != "autounattend.xml"));
    CHECK(body.find("PRIVATE KEY") == std::string::npos);
  }
}

TEST_CASE("the kit built from a Kubernetes bundle packs its verified Windows files and pins their sha256") {
  testing::TempDir t;
  FakeUdf(t / "server.iso", 2);
  testing::WriteTestBundle(t / "bundle");
  REQUIRE(
      BuildWindowsKit(WinDef(), t / "server.iso", {.artifacts_dir = "", .kubernetes_bundle = t / "bundle"}, t / "out")
          .ok());
  auto files = testing::ReadIsoFiles(t / "out/windows-node-answer.iso");
  CHECK(files["slipway/kubernetes/kubelet.exe"] == "MZ kubelet.exe stand-in");
  CHECK(files.count("slipway/kubernetes/containerd-1.7.11-windows-amd64.tar.gz"));
  CHECK_FALSE(files.count("slipway/kubernetes/kubectl"));  // Linux files stay out
  const std::string& ps1 = files["slipway/firstboot.ps1"];
  CHECK(ps1.find("'kubeadm.exe' = '" + Sha256Hex("MZ kubeadm.exe stand-in") + "'") != std::string::npos);
  CHECK(ps1.find("join --config C:\\slipway\\kubeadm.yaml") != std::string::npos);
  CHECK(testing::ReadText(t / "out/windows-node.kit.json").find("\"version\": \"1.28.5\"") != std::string::npos);

  // A tampered Windows file: refused with both hashes, and no kit is written.
  testing::WriteText(t / "bundle/windows/kubelet.exe", "MZ something else");
  auto bad =
      BuildWindowsKit(WinDef(), t / "server.iso", {.artifacts_dir = "", .kubernetes_bundle = t / "bundle"}, t / "out2");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("windows/kubelet.exe: expected sha256 " + Sha256Hex("MZ kubelet.exe stand-in") +
                                   ", actual " + Sha256Hex("MZ something else")) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(t / "out2"));
}
