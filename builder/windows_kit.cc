// Windows node kit.
#include "builder/windows_kit.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/atomic_file.h"
#include "common/escape.h"
#include "common/hash.h"
#include "common/json_text.h"
#include "common/kubernetes.h"
#include "common/strings.h"

namespace slipway::builder {

namespace fs = std::filesystem;

namespace {

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&')
      o += "&amp;";
    else if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

// Commands run once in the specialize pass, in order (RunSynchronous).
std::vector<std::pair<std::string, std::string>> HardeningCommands(const ImageDefinition& def) {
  std::vector<std::string> ports;
  for (int64_t p : def.windows ? def.windows->open_tcp_ports : std::vector<int64_t>{})
    ports.push_back(std::to_string(p));
  if (std::find(ports.begin(), ports.end(), "22") == ports.end()) ports.push_back("22");
  std::string ps = "powershell -NoProfile -ExecutionPolicy Bypass -Command ";
  return {
      {"SMBv1 off", ps + "\"Set-SmbServerConfiguration -EnableSMB1Protocol $false -Force; "
                         "Disable-WindowsOptionalFeature -Online -FeatureName SMB1Protocol -NoRestart\""},
      {"LLMNR off",
       "reg add \"HKLM\\Software\\Policies\\Microsoft\\Windows NT\\DNSClient\" /v EnableMulticast /t REG_DWORD /d 0 "
       "/f"},
      {"NetBIOS off", ps + "\"Get-CimInstance Win32_NetworkAdapterConfiguration -Filter 'IPEnabled=true' | "
                           "Invoke-CimMethod -MethodName SetTcpipNetbios -Arguments @{TcpipNetbiosOptions=2}\""},
      {"RDP off",
       "reg add \"HKLM\\System\\CurrentControlSet\\Control\\Terminal Server\" /v fDenyTSConnections /t REG_DWORD /d 1 "
       "/f"},
      {"Defender on", ps + "\"Set-MpPreference -DisableRealtimeMonitoring $false -MAPSReporting Advanced\""},
      {"TLS 1.2+ only",
       ps + "\"foreach ($p in 'SSL 2.0','SSL 3.0','TLS 1.0','TLS 1.1') { foreach ($s in 'Server','Client') { $k = "
            "\\\"HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\$p\\$s\\\"; "
            "New-Item $k -Force | Out-Null; Set-ItemProperty $k Enabled 0 -Type DWord; Set-ItemProperty $k "
            "DisabledByDefault 1 -Type DWord } }; foreach ($s in 'Server','Client') { $k = "
            "\\\"HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\$s\\\"; "
            "New-Item $k -Force | Out-Null; Set-ItemProperty $k Enabled 1 -Type DWord; Set-ItemProperty $k "
            "DisabledByDefault 0 -Type DWord }\""},
      {"Containers feature", ps + "\"Install-WindowsFeature -Name Containers\""},
      {"OpenSSH server", ps + "\"Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0; Set-Service sshd "
                              "-StartupType Automatic\""},
      {"WinRM over HTTPS only",
       ps + "\"$c = New-SelfSignedCertificate -DnsName $env:COMPUTERNAME -CertStoreLocation Cert:\\LocalMachine\\My; "
            "Enable-PSRemoting -SkipNetworkProfileCheck -Force; Get-ChildItem WSMan:\\localhost\\Listener | "
            "Where-Object { $_.Keys -contains 'Transport=HTTP' } | Remove-Item -Recurse; New-Item "
            "WSMan:\\localhost\\Listener -Transport HTTPS -Address * -CertificateThumbprint $c.Thumbprint -Force\""},
      {"Firewall on, node ports only",
       ps +
           "\"Set-NetFirewallProfile -All -Enabled True -DefaultInboundAction Block -DefaultOutboundAction Allow; "
           "Get-NetFirewallRule | Where-Object { $_.Direction -eq 'Inbound' } | Disable-NetFirewallRule; "
           "New-NetFirewallRule -DisplayName 'Slipway node ports' -Direction Inbound -Protocol TCP -LocalPort " +
           Join(ports, ",") + " -Action Allow\""},
  };
}

}  // namespace

Result<std::string> CheckWindowsMedia(const std::string& path, int64_t min_mib) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Error::Input("Windows media '" + path + "' does not exist; give a Windows Server ISO or an install.wim");
  }
  uint64_t size = fs::file_size(path, ec);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot open Windows media", path, errno);
  char head[8] = {0};
  ssize_t n = ::pread(fd, head, sizeof head, 0);
  uint8_t avdp[16] = {0};
  ssize_t m = ::pread(fd, avdp, sizeof avdp, 256 * 2048);
  ::close(fd);
  if (n == 8 && std::memcmp(head, "MSWIM\0\0\0", 8) == 0) return std::string("wim");
  bool udf = m == 16 && (avdp[0] | avdp[1] << 8) == 2 &&
             (avdp[12] | avdp[13] << 8 | avdp[14] << 16 | static_cast<uint32_t>(avdp[15]) << 24) == 256;
  if (!udf) {
    return Error::Input("Windows media '" + path +
                        "' is neither an install.wim (no MSWIM header) nor a UDF image "
                        "(no anchor volume descriptor at sector 256); Windows Server ISOs are UDF");
  }
  if (size < static_cast<uint64_t>(min_mib) << 20) {
    return Error::Input("Windows media '" + path + "' is " + FormatBytes(size) + "; a Windows Server ISO is at least " +
                        std::to_string(min_mib) + " MiB ([windows] min_media_mib)");
  }
  return std::string("iso");
}

std::string AutounattendXml(const ImageDefinition& def) {
  const WindowsSpec& w = *def.windows;
  std::string cmds;
  int order = 1;
  for (const auto& [what, cmd] : HardeningCommands(def)) {
    cmds += "        <RunSynchronousCommand wcm:action=\"add\">\n          <Order>" + std::to_string(order++) +
            "</Order>\n          <Description>" + Esc(what) + "</Description>\n          <Path>" + Esc(cmd) +
            "</Path>\n        </RunSynchronousCommand>\n";
  }
  const std::string arch =
      "processorArchitecture=\"amd64\" publicKeyToken=\"31bf3856ad364e35\" language=\"neutral\" "
      "versionScope=\"nonSxS\"";
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
         "<!-- Generated by slipway for " +
         Esc(def.name) +
         ". Secrets are filled in at apply time. -->\n"
         "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\" "
         "xmlns:wcm=\"http://schemas.microsoft.com/WMIConfig/2002/State\">\n"
         "  <settings pass=\"windowsPE\">\n"
         "    <component name=\"Microsoft-Windows-International-Core-WinPE\" " +
         arch +
         ">\n"
         "      <SetupUILanguage><UILanguage>" +
         Esc(w.locale) +
         "</UILanguage></SetupUILanguage>\n"
         "      <InputLocale>" +
         Esc(w.locale) + "</InputLocale><SystemLocale>" + Esc(w.locale) +
         "</SystemLocale>\n"
         "      <UILanguage>" +
         Esc(w.locale) + "</UILanguage><UserLocale>" + Esc(w.locale) +
         "</UserLocale>\n"
         "    </component>\n"
         "    <component name=\"Microsoft-Windows-Setup\" " +
         arch +
         ">\n"
         "      <DiskConfiguration>\n        <Disk wcm:action=\"add\">\n          <DiskID>0</DiskID>\n"
         "          <WillWipeDisk>true</WillWipeDisk>\n          <CreatePartitions>\n"
         "            <CreatePartition "
         "wcm:action=\"add\"><Order>1</Order><Type>EFI</Type><Size>100</Size></CreatePartition>\n"
         "            <CreatePartition "
         "wcm:action=\"add\"><Order>2</Order><Type>MSR</Type><Size>16</Size></CreatePartition>\n"
         "            <CreatePartition "
         "wcm:action=\"add\"><Order>3</Order><Type>Primary</Type><Extend>true</Extend></CreatePartition>\n"
         "          </CreatePartitions>\n          <ModifyPartitions>\n"
         "            <ModifyPartition "
         "wcm:action=\"add\"><Order>1</Order><PartitionID>1</PartitionID><Format>FAT32</Format><Label>System</Label></"
         "ModifyPartition>\n"
         "            <ModifyPartition "
         "wcm:action=\"add\"><Order>2</Order><PartitionID>3</PartitionID><Format>NTFS</Format><Label>Windows</"
         "Label><Letter>C</Letter></ModifyPartition>\n"
         "          </ModifyPartitions>\n        </Disk>\n      </DiskConfiguration>\n"
         "      <ImageInstall>\n        <OSImage>\n          <InstallFrom><MetaData "
         "wcm:action=\"add\"><Key>/IMAGE/NAME</Key><Value>" +
         Esc(w.edition) +
         "</Value></MetaData></InstallFrom>\n"
         "          <InstallTo><DiskID>0</DiskID><PartitionID>3</PartitionID></InstallTo>\n        </OSImage>\n      "
         "</ImageInstall>\n"
         "      "
         "<UserData><AcceptEula>true</AcceptEula><FullName>Slipway</FullName><Organization>Slipway</Organization></"
         "UserData>\n"
         "    </component>\n  </settings>\n"
         "  <settings pass=\"specialize\">\n"
         "    <component name=\"Microsoft-Windows-Shell-Setup\" " +
         arch +
         ">\n"
         "      <ComputerName>*</ComputerName>\n      <TimeZone>UTC</TimeZone>\n    </component>\n"
         "    <component name=\"Microsoft-Windows-Deployment\" " +
         arch + ">\n      <RunSynchronous>\n" + cmds +
         "      </RunSynchronous>\n    </component>\n  </settings>\n"
         "  <settings pass=\"oobeSystem\">\n"
         "    <component name=\"Microsoft-Windows-Shell-Setup\" " +
         arch +
         ">\n"
         "      <UserAccounts>\n        <AdministratorPassword>\n          "
         "<Value>{{secret:password/windows-admin}}</Value>\n"
         "          <PlainText>true</PlainText>\n        </AdministratorPassword>\n      </UserAccounts>\n"
         "      "
         "<OOBE><HideEULAPage>true</HideEULAPage><SkipMachineOOBE>true</SkipMachineOOBE><ProtectYourPC>1</"
         "ProtectYourPC></OOBE>\n"
         "      <FirstLogonCommands>\n        <SynchronousCommand wcm:action=\"add\"><Order>1</Order>"
         "<CommandLine>powershell -NoProfile -ExecutionPolicy Bypass -File D:\\slipway\\firstboot.ps1</CommandLine>"
         "<Description>Slipway: install containerd and kubelet, join the cluster</Description></SynchronousCommand>\n"
         "      </FirstLogonCommands>\n    </component>\n  </settings>\n</unattend>\n";
}

std::string FirstBootScript(const std::vector<Artifact>& artifacts) {
  std::string s =
      "# Generated by slipway: first boot of a Windows node.\n"
      "$ErrorActionPreference = 'Stop'\n"
      "$bundle = (Get-Volume | Where-Object FileSystemLabel -eq 'SLIPWAYART' | Select-Object -First 1).DriveLetter + "
      "':\\'\n"
      "$expected = @{\n";
  for (const Artifact& a : artifacts) s += "  '" + a.name + "' = '" + a.sha256 + "'\n";
  s += "}\n"
       "foreach ($name in $expected.Keys) {\n"
       "  $hash = (Get-FileHash -Algorithm SHA256 (Join-Path $bundle $name)).Hash.ToLower()\n"
       "  if ($hash -ne $expected[$name]) { throw \"artifact $name has sha256 $hash, expected $($expected[$name])\" }\n"
       "}\n"
       "New-Item -ItemType Directory -Force -Path 'C:\\Program Files\\containerd','C:\\k' | Out-Null\n"
       "Expand-Archive -Force (Join-Path $bundle 'containerd.zip') 'C:\\Program Files\\containerd'\n"
       "& 'C:\\Program Files\\containerd\\bin\\containerd.exe' --register-service\n"
       "Start-Service containerd\n"
       "Copy-Item (Join-Path $bundle 'kubelet.exe'),(Join-Path $bundle 'kubeadm.exe') 'C:\\k\\'\n"
       "& 'C:\\k\\kubeadm.exe' join --config C:\\slipway\\kubeadm.yaml\n"
       "Write-Output 'slipway-node-ready' $env:COMPUTERNAME\n";
  return s;
}

std::string BundleFirstBootScript(const BundleManifest& m) {
  std::string s =
      "# Generated by slipway: first boot of a Windows node, Kubernetes " + m.kubernetes_version +
      " from the offline bundle.\n"
      "$ErrorActionPreference = 'Stop'\n"
      "$answer = (Get-Volume | Where-Object FileSystemLabel -eq 'SLIPWAYWIN' | Select-Object -First 1).DriveLetter "
      "+ ':\\'\n"
      "$bundle = Join-Path $answer 'slipway\\kubernetes'\n"
      "$expected = [ordered]@{\n";
  std::string images;
  std::string containerd, kubelet, kubeadm, proxy;
  for (const BundleFile& f : m.files) {
    if (f.os != BundleOs::kWindows) continue;
    std::string name = fs::path(f.path).filename().string();
    s += "  " + PowerShellQuote(name) + " = " + PowerShellQuote(f.sha256) + "\n";
    switch (f.kind) {
      case BundleFileKind::kContainerd:
        containerd = name;
        break;
      case BundleFileKind::kKubelet:
        kubelet = name;
        break;
      case BundleFileKind::kKubeadm:
        kubeadm = name;
        break;
      case BundleFileKind::kKubeProxy:
        proxy = name;
        break;
      case BundleFileKind::kImage:
        images += "& 'C:\\Program Files\\containerd\\bin\\ctr.exe' -n k8s.io images import (Join-Path $bundle " +
                  PowerShellQuote(name) + ")\n";
        break;
      default:
        break;
    }
  }
  s += "}\n"
       "foreach ($name in $expected.Keys) {\n"
       "  $hash = (Get-FileHash -Algorithm SHA256 (Join-Path $bundle $name)).Hash.ToLower()\n"
       "  if ($hash -ne $expected[$name]) { throw \"bundle file $name has sha256 $hash, expected $($expected[$name])\" "
       "}\n"
       "}\n"
       "New-Item -ItemType Directory -Force -Path 'C:\\Program Files\\containerd','C:\\k' | Out-Null\n"
       "tar.exe -x -f (Join-Path $bundle " +
       PowerShellQuote(containerd) +
       ") -C 'C:\\Program Files\\containerd'\n"
       "& 'C:\\Program Files\\containerd\\bin\\containerd.exe' --register-service\n"
       "Start-Service containerd\n" +
       images + "Copy-Item (Join-Path $bundle " + PowerShellQuote(kubelet) + "),(Join-Path $bundle " +
       PowerShellQuote(kubeadm) + "),(Join-Path $bundle " + PowerShellQuote(proxy) +
       ") 'C:\\k\\'\n"
       "& (Join-Path 'C:\\k' " +
       PowerShellQuote(kubeadm) +
       ") join --config C:\\slipway\\kubeadm.yaml\n"
       "Write-Output 'slipway-node-ready' $env:COMPUTERNAME\n";
  return s;
}

Status BuildWindowsKit(const ImageDefinition& def, const std::string& media, const WindowsKitOptions& options,
                       const std::string& out_dir) {
  if (!def.windows) return Error::Input(def.file + ": not a windows-node definition");
  auto kind = CheckWindowsMedia(media, def.windows->min_media_mib);
  if (!kind) return std::move(kind).error();
  const std::string& artifacts_dir = options.artifacts_dir;
  std::vector<Artifact> artifacts;
  std::error_code ec;
  // The bundle is verified into a staging folder beside out_dir, so that a
  // mismatch leaves out_dir as it was.
  std::optional<VerifiedBundle> bundle;
  std::string staging = fs::absolute(out_dir).lexically_normal().string() + ".bundle-" + std::to_string(::getpid());
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(dir, e);
    }
  } cleanup{staging};
  if (!options.kubernetes_bundle.empty()) {
    auto v = VerifyBundle(options.kubernetes_bundle, staging);
    if (!v) return std::move(v).error().Context("verifying the Kubernetes bundle " + options.kubernetes_bundle);
    Diagnostics diags;
    CheckBundleComplete(v->manifest, BundleOs::kWindows, &diags);
    if (diags.HasErrors()) return Error::Input(FormatDiagnostic(diags.items()[0]));
    bundle = std::move(*v);
  }
  if (!artifacts_dir.empty()) {
    for (const auto& e : fs::directory_iterator(artifacts_dir, ec)) {
      if (!e.is_regular_file()) continue;
      auto sum = Sha256File(e.path().string());
      if (!sum) return std::move(sum).error();
      artifacts.push_back({e.path().filename().string(), *sum});
    }
    std::sort(artifacts.begin(), artifacts.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  fs::create_directories(out_dir, ec);
  std::string xml = AutounattendXml(def),
              ps1 = bundle ? BundleFirstBootScript(bundle->manifest) : FirstBootScript(artifacts);
  if (auto st = WriteFileAtomic(out_dir + "/autounattend.xml", xml); !st) return st;
  if (auto st = WriteFileAtomic(out_dir + "/firstboot.ps1", ps1); !st) return st;
  // The answer ISO: Windows Setup finds autounattend.xml at the root of any drive.
  std::string iso = out_dir + "/" + def.name + "-answer.iso", tmp = iso + ".partial";
  archive* a = archive_write_new();
  archive_write_set_format_iso9660(a);
  archive_write_set_options(a, "iso9660:volume-id=SLIPWAYWIN,iso9660:rockridge,iso9660:joliet");
  if (archive_write_open_filename(a, tmp.c_str()) != ARCHIVE_OK) {
    std::string msg = archive_error_string(a);
    archive_write_free(a);
    return Error::Runtime("cannot write " + tmp + ": " + msg);
  }
  auto add = [&](const std::string& name, const std::string& body, mode_t type) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0555 : 0444);
    archive_entry_set_size(e, type == AE_IFDIR ? 0 : static_cast<la_int64_t>(body.size()));
    archive_entry_set_mtime(e, 0, 0);
    archive_write_header(a, e);
    if (!body.empty()) archive_write_data(a, body.data(), body.size());
    archive_entry_free(e);
  };
  add("autounattend.xml", xml, AE_IFREG);
  add("slipway", "", AE_IFDIR);
  add("slipway/firstboot.ps1", ps1, AE_IFREG);
  bool ok = true;
  if (bundle) {
    add("slipway/kubernetes", "", AE_IFDIR);
    for (const BundleFile& f : bundle->manifest.files) {
      if (f.os != BundleOs::kWindows) continue;
      auto body = ReadFile(bundle->PathOf(f));  // verified copy; bounded by kMaxBundleFileBytes
      if (!body) {
        archive_write_free(a);
        fs::remove(tmp, ec);
        return std::move(body).error();
      }
      add("slipway/kubernetes/" + fs::path(f.path).filename().string(), *body, AE_IFREG);
    }
  }
  ok = archive_write_close(a) == ARCHIVE_OK;
  archive_write_free(a);
  if (!ok) {
    fs::remove(tmp, ec);
    return Error::Runtime("cannot finish " + iso);
  }
  fs::rename(tmp, iso, ec);
  if (ec) return Error::Runtime("cannot rename " + tmp + ": " + ec.message());
  // Where the media is, for the executor, which attaches it next to the
  // answer ISO when it defines a Windows VM (apply --images DIR).
  nlohmann::json kit = {{"schema", "slipway.windows-kit/v1"},
                        {"media", fs::absolute(media).lexically_normal().string()},
                        {"media_kind", *kind},
                        {"answer_iso", def.name + "-answer.iso"}};
  if (bundle) {
    kit["kubernetes"] = {{"bundle", true}, {"version", bundle->manifest.kubernetes_version}};
  } else {
    kit["kubernetes"] = {{"bundle", false}, {"note", kNoKubernetesBundle}};
  }
  return WriteFileAtomic(out_dir + "/" + def.name + ".kit.json", DumpJson(kit, 2) + "\n");
}

}  // namespace slipway::builder
