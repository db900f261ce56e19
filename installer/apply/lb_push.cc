// Service rules into the running load balancers, over SSH.
#include "installer/apply/lb_push.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

#include "common/lb_apply.h"
#include "common/strings.h"
#include "common/subprocess.h"

namespace slipway::installer {

Result<std::string> LbPayload(const std::string& haproxy, const std::string& keepalived, const std::vector<int>& ports,
                              const std::optional<std::string>& addresses) {
  std::string ports_text;
  for (int p : ports) {
    if (p < 1 || p > 65535) return Error::Input("Service port " + std::to_string(p) + " is not a TCP port (1-65535)");
    ports_text += std::to_string(p) + "\n";
  }
  std::vector<std::pair<std::string, const std::string*>> files = {{kLbPayloadHaproxy, &haproxy}};
  if (!keepalived.empty()) files.push_back({kLbPayloadKeepalived, &keepalived});
  files.push_back({kLbPayloadPorts, &ports_text});
  if (addresses) files.push_back({kLbPayloadAddresses, &*addresses});

  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), archive_write_free);
  std::string out;
  archive_write_set_format_ustar(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  auto write_cb = [](archive*, void* data, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(data)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  if (archive_write_open(a.get(), &out, nullptr, write_cb, nullptr) != ARCHIVE_OK) {
    return Error::Runtime(std::string("cannot start the load-balancer payload: ") + archive_error_string(a.get()));
  }
  for (const auto& [name, text] : files) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(text->size()));
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK ||
        archive_write_data(a.get(), text->data(), text->size()) != static_cast<la_ssize_t>(text->size())) {
      return Error::Runtime("cannot add " + name + " to the load-balancer payload: " + archive_error_string(a.get()));
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return Error::Runtime(std::string("cannot finish the load-balancer payload: ") + archive_error_string(a.get()));
  }
  return out;
}

Result<std::string> PushLbPayload(const std::string& name, const std::string& ip, const std::string& payload,
                                  const LbLogin& login) {
  // No user or system ssh_config (-F /dev/null): only what is said here.
  // The host key is trusted on first use and pinned in known_hosts.
  std::vector<std::string> argv = {login.ssh,
                                   "-F",
                                   "/dev/null",
                                   "-i",
                                   login.key_file,
                                   "-o",
                                   "IdentitiesOnly=yes",
                                   "-o",
                                   "BatchMode=yes",
                                   "-o",
                                   "StrictHostKeyChecking=accept-new",
                                   "-o",
                                   "UserKnownHostsFile=" + login.known_hosts,
                                   "-o",
                                   "ConnectTimeout=" + std::to_string(login.connect_timeout_s),
                                   "-o",
                                   "ServerAliveInterval=5",
                                   "-o",
                                   "ServerAliveCountMax=6",
                                   "-o",
                                   "LogLevel=ERROR",
                                   "root@" + ip,
                                   "lb-apply"};
  RunOptions opts;
  opts.allow_failure = true;
  opts.input = payload;
  auto r = RunCommand(argv, opts);
  if (!r) return std::move(r).error().Context("load balancer " + name + " (" + ip + ")");
  std::string said = std::string(Trim(r->out + r->err));
  if (r->exit_code == 255) {
    return Error::Runtime("load balancer " + name + " (" + ip + "): ssh could not log in: " + said +
                          "\n  fix: the VM must be running and reachable from here, and its /root/.ssh/authorized_keys "
                          "must hold the cluster's key (apply puts it there)");
  }
  if (r->exit_code != 0) {
    return Error::Runtime("load balancer " + name + " (" + ip + "): lb-apply refused the rules (exit " +
                          std::to_string(r->exit_code) + "): " + said);
  }
  return said;
}

}  // namespace slipway::installer
