// The Hypervisor seam: the only code that calls libvirt. A thin RAII layer
// over the libvirt C API that turns libvirt errors into slipway::Error. It is
// real libvirt in every test: the in-process test:/// driver, or a libvirtd
// the test starts.
#pragma once

#include <libvirt/libvirt.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace slipway::installer {

struct ObjectState {
  bool exists = false;
  bool active = false;
  bool autostart = false;
  std::string xml;
};

/// What exists in libvirt, by kind, as sorted names (for tests and destroy).
struct Inventory {
  std::vector<std::string> domains;
  std::vector<std::string> networks;
  std::vector<std::string> pools;
  std::vector<std::string> volumes;  ///< "pool/volume"
};

class Hypervisor {
 public:
  /// Opens `uri` read-write. Errors name the URI and libvirt's reason.
  static Result<std::unique_ptr<Hypervisor>> Connect(const std::string& uri);
  ~Hypervisor();
  Hypervisor(const Hypervisor&) = delete;
  Hypervisor& operator=(const Hypervisor&) = delete;

  const std::string& uri() const { return uri_; }
  /// "test", "qemu", ... (the driver behind the connection).
  std::string DriverType() const;

  // Networks.
  ObjectState Network(const std::string& name);
  Status DefineNetwork(const std::string& xml);
  Status StartNetwork(const std::string& name, bool autostart);
  Status DeleteNetwork(const std::string& name);

  // Storage pools and volumes.
  ObjectState Pool(const std::string& name);
  Status DefinePool(const std::string& xml);
  Status StartPool(const std::string& name, bool autostart);
  Status RefreshPool(const std::string& name);
  Status DeletePool(const std::string& name);
  ObjectState Volume(const std::string& pool, const std::string& name);
  Status CreateVolume(const std::string& pool, const std::string& xml);
  /// Streams `file` into the volume. Returns kUnsupported-style error text
  /// "unsupported:" when the driver cannot upload (the test driver).
  Status UploadVolume(const std::string& pool, const std::string& name, const std::string& file);
  Status DeleteVolume(const std::string& pool, const std::string& name);
  std::string VolumePath(const std::string& pool, const std::string& name);

  // Domains.
  ObjectState Domain(const std::string& name);
  Status DefineDomain(const std::string& xml);
  Status StartDomain(const std::string& name, bool autostart);
  Status DeleteDomain(const std::string& name);

  Inventory List();

 private:
  Hypervisor(virConnectPtr conn, std::string uri) : conn_(conn), uri_(std::move(uri)) {}
  Error Failure(const std::string& what) const;
  virConnectPtr conn_;
  std::string uri_;
};

/// True when the error says the driver does not support the call.
bool IsUnsupported(const Error& e);

}  // namespace slipway::installer
