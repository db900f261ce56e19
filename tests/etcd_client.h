// etcdctl (Debian's etcd-client, on the host) against the etcd members of
// a cluster that `slipway apply` made, from the private libvirtd's network
// namespace, where the guests' addresses answer. It authenticates with the
// cluster's etcd client certificate from the apply's state folder (the API
// server's, issued by the etcd CA), as an operator on the host would.
#pragma once

#include <string>
#include <vector>

#include "common/strings.h"
#include "installer/plan/plan.h"
#include "qemu_libvirtd.h"
#include "test_util.h"

namespace slipway::testing {

class EtcdCtl {
 public:
  EtcdCtl(const QemuLibvirtd& daemon, const std::string& state, const std::string& cluster)
      : d_(daemon), secrets_(state + "/secrets"), cluster_(cluster) {}

  /// The client URL of each member: the cluster's VMs whose plan files
  /// hold an etcd member config, in plan order.
  static std::vector<std::string> Endpoints(const installer::Plan& plan, const std::string& cluster) {
    std::vector<std::string> out;
    for (const auto& vm : plan.vms) {
      if (vm.cluster != cluster) continue;
      for (const auto& f : vm.files) {
        if (f.path == "/etc/etcd/etcd.yaml") out.push_back("https://" + vm.nics[0].ip + ":2379");
      }
    }
    return out;
  }

  /// etcdctl ARGS against `endpoints` (comma-separated), with the client
  /// certificate, or with the CA alone when `with_cert` is false.
  RunResult Run(const std::string& endpoints, const std::string& args, bool with_cert = true) const {
    std::string tls = "--cacert=" + secrets_ + "/etcd-ca_" + cluster_ + "/ca-cert";
    if (with_cert) {
      tls += " --cert=" + secrets_ + "/etcd-client_" + cluster_ + "/cert --key=" + secrets_ + "/etcd-client_" +
             cluster_ + "/key";
    }
    return d_.Exec("ETCDCTL_API=3 timeout 60 etcdctl --endpoints=" + endpoints + " " + tls +
                   " --dial-timeout=3s --command-timeout=10s " + args);
  }

  /// The endpoints that `endpoint health --cluster` reports healthy, asked
  /// through `endpoints`.
  std::vector<std::string> Healthy(const std::string& endpoints, std::string* report = nullptr) const {
    RunResult r = Run(endpoints, "endpoint health --cluster");
    if (report) *report = r.out + r.err;
    std::vector<std::string> out;
    for (const std::string& line : Split(r.out + "\n" + r.err, '\n')) {
      size_t at = line.find(" is healthy");
      if (at != std::string::npos && line.starts_with("https://")) out.push_back(line.substr(0, at));
    }
    return out;
  }

 private:
  const QemuLibvirtd& d_;
  std::string secrets_;
  std::string cluster_;
};

}  // namespace slipway::testing
