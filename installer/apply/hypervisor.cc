// libvirt calls.
#include "installer/apply/hypervisor.h"

#include <fcntl.h>
#include <libvirt/virterror.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace slipway::installer {

namespace {

// libvirt prints errors to stderr by default; we report them ourselves.
void Quiet(void*, virErrorPtr) {}

template <typename T, int (*Free)(T)>
struct Ptr {
  T p = nullptr;
  explicit Ptr(T v) : p(v) {}
  ~Ptr() {
    if (p) Free(p);
  }
  Ptr(const Ptr&) = delete;
  Ptr& operator=(const Ptr&) = delete;
  explicit operator bool() const { return p != nullptr; }
};
using NetPtr = Ptr<virNetworkPtr, virNetworkFree>;
using PoolPtr = Ptr<virStoragePoolPtr, virStoragePoolFree>;
using VolPtr = Ptr<virStorageVolPtr, virStorageVolFree>;
using DomPtr = Ptr<virDomainPtr, virDomainFree>;
using StreamPtr = Ptr<virStreamPtr, virStreamFree>;

std::string TakeXml(char* x) {
  std::string s = x ? x : "";
  free(x);
  return s;
}

int ReadFd(virStreamPtr, char* buf, size_t n, void* opaque) {
  int fd = *static_cast<int*>(opaque);
  ssize_t r;
  do {
    r = ::read(fd, buf, n);
  } while (r < 0 && errno == EINTR);
  return static_cast<int>(r);
}

}  // namespace

bool IsUnsupported(const Error& e) { return e.message().rfind("unsupported: ", 0) == 0; }

Result<std::unique_ptr<Hypervisor>> Hypervisor::Connect(const std::string& uri) {
  virSetErrorFunc(nullptr, Quiet);
  virConnectPtr c = virConnectOpen(uri.c_str());
  if (!c) {
    virErrorPtr e = virGetLastError();
    return Error::Runtime("cannot connect to libvirt at '" + uri +
                          "': " + (e && e->message ? e->message : "unknown error"));
  }
  return std::unique_ptr<Hypervisor>(new Hypervisor(c, uri));
}

Hypervisor::~Hypervisor() {
  if (conn_) virConnectClose(conn_);
}

std::string Hypervisor::DriverType() const {
  const char* t = virConnectGetType(conn_);
  std::string s = t ? t : "";
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Error Hypervisor::Failure(const std::string& what) const {
  virErrorPtr e = virGetLastError();
  std::string msg = e && e->message ? e->message : "unknown libvirt error";
  if (e && e->code == VIR_ERR_NO_SUPPORT) return Error::Runtime("unsupported: " + what + ": " + msg);
  return Error::Runtime(what + ": " + msg);
}

ObjectState Hypervisor::Network(const std::string& name) {
  NetPtr n(virNetworkLookupByName(conn_, name.c_str()));
  if (!n) return {};
  int autostart = 0;
  virNetworkGetAutostart(n.p, &autostart);
  return {true, virNetworkIsActive(n.p) == 1, autostart == 1, TakeXml(virNetworkGetXMLDesc(n.p, 0))};
}

Status Hypervisor::DefineNetwork(const std::string& xml) {
  NetPtr n(virNetworkDefineXML(conn_, xml.c_str()));
  if (!n) return Failure("define network");
  return Ok();
}

Status Hypervisor::StartNetwork(const std::string& name, bool autostart) {
  NetPtr n(virNetworkLookupByName(conn_, name.c_str()));
  if (!n) return Failure("look up network " + name);
  if (virNetworkIsActive(n.p) != 1 && virNetworkCreate(n.p) < 0) return Failure("start network " + name);
  if (virNetworkSetAutostart(n.p, autostart ? 1 : 0) < 0) return Failure("set autostart of network " + name);
  return Ok();
}

Status Hypervisor::DeleteNetwork(const std::string& name) {
  NetPtr n(virNetworkLookupByName(conn_, name.c_str()));
  if (!n) return Ok();
  if (virNetworkIsActive(n.p) == 1 && virNetworkDestroy(n.p) < 0) return Failure("stop network " + name);
  if (virNetworkUndefine(n.p) < 0) return Failure("undefine network " + name);
  return Ok();
}

ObjectState Hypervisor::Pool(const std::string& name) {
  PoolPtr p(virStoragePoolLookupByName(conn_, name.c_str()));
  if (!p) return {};
  int autostart = 0;
  virStoragePoolGetAutostart(p.p, &autostart);
  return {true, virStoragePoolIsActive(p.p) == 1, autostart == 1, TakeXml(virStoragePoolGetXMLDesc(p.p, 0))};
}

Status Hypervisor::DefinePool(const std::string& xml) {
  PoolPtr p(virStoragePoolDefineXML(conn_, xml.c_str(), 0));
  if (!p) return Failure("define storage pool");
  return Ok();
}

Status Hypervisor::StartPool(const std::string& name, bool autostart) {
  PoolPtr p(virStoragePoolLookupByName(conn_, name.c_str()));
  if (!p) return Failure("look up storage pool " + name);
  if (virStoragePoolIsActive(p.p) != 1) {
    // Builds the pool folder (<csv>/slipway) when it does not exist yet.
    virStoragePoolBuild(p.p, VIR_STORAGE_POOL_BUILD_NO_OVERWRITE);
    if (virStoragePoolCreate(p.p, 0) < 0) return Failure("start storage pool " + name);
  }
  if (virStoragePoolSetAutostart(p.p, autostart ? 1 : 0) < 0) return Failure("set autostart of pool " + name);
  return Ok();
}

Status Hypervisor::RefreshPool(const std::string& name) {
  PoolPtr p(virStoragePoolLookupByName(conn_, name.c_str()));
  if (!p) return Failure("look up storage pool " + name);
  if (virStoragePoolRefresh(p.p, 0) < 0) return Failure("refresh storage pool " + name);
  return Ok();
}

Status Hypervisor::DeletePool(const std::string& name) {
  PoolPtr p(virStoragePoolLookupByName(conn_, name.c_str()));
  if (!p) return Ok();
  if (virStoragePoolIsActive(p.p) == 1 && virStoragePoolDestroy(p.p) < 0) return Failure("stop pool " + name);
  if (virStoragePoolUndefine(p.p) < 0) return Failure("undefine pool " + name);
  return Ok();
}

ObjectState Hypervisor::Volume(const std::string& pool, const std::string& name) {
  PoolPtr p(virStoragePoolLookupByName(conn_, pool.c_str()));
  if (!p) return {};
  VolPtr v(virStorageVolLookupByName(p.p, name.c_str()));
  if (!v) return {};
  return {true, true, false, TakeXml(virStorageVolGetXMLDesc(v.p, 0))};
}

Status Hypervisor::CreateVolume(const std::string& pool, const std::string& xml) {
  PoolPtr p(virStoragePoolLookupByName(conn_, pool.c_str()));
  if (!p) return Failure("look up storage pool " + pool);
  VolPtr v(virStorageVolCreateXML(p.p, xml.c_str(), 0));
  if (!v) return Failure("create volume in pool " + pool);
  return Ok();
}

Status Hypervisor::UploadVolume(const std::string& pool, const std::string& name, const std::string& file) {
  PoolPtr p(virStoragePoolLookupByName(conn_, pool.c_str()));
  if (!p) return Failure("look up storage pool " + pool);
  VolPtr v(virStorageVolLookupByName(p.p, name.c_str()));
  if (!v) return Failure("look up volume " + name);
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::Errno("cannot open image", file, errno);
  off_t size = ::lseek(fd, 0, SEEK_END);
  ::lseek(fd, 0, SEEK_SET);
  StreamPtr st(virStreamNew(conn_, 0));
  Status result = Ok();
  if (virStorageVolUpload(v.p, st.p, 0, static_cast<unsigned long long>(size), 0) < 0) {
    result = Failure("upload " + file + " to volume " + name);
  } else if (virStreamSendAll(st.p, ReadFd, &fd) < 0) {
    result = Failure("stream " + file + " to volume " + name);
    virStreamAbort(st.p);
  } else if (virStreamFinish(st.p) < 0) {
    result = Failure("finish upload of " + file);
  }
  ::close(fd);
  return result;
}

Status Hypervisor::DeleteVolume(const std::string& pool, const std::string& name) {
  PoolPtr p(virStoragePoolLookupByName(conn_, pool.c_str()));
  if (!p) return Ok();
  VolPtr v(virStorageVolLookupByName(p.p, name.c_str()));
  if (!v) return Ok();
  if (virStorageVolDelete(v.p, 0) < 0) return Failure("delete volume " + name);
  return Ok();
}

std::string Hypervisor::VolumePath(const std::string& pool, const std::string& name) {
  PoolPtr p(virStoragePoolLookupByName(conn_, pool.c_str()));
  if (!p) return "";
  VolPtr v(virStorageVolLookupByName(p.p, name.c_str()));
  if (!v) return "";
  char* path = virStorageVolGetPath(v.p);
  std::string s = path ? path : "";
  free(path);
  return s;
}

ObjectState Hypervisor::Domain(const std::string& name) {
  DomPtr d(virDomainLookupByName(conn_, name.c_str()));
  if (!d) return {};
  int autostart = 0;
  virDomainGetAutostart(d.p, &autostart);
  return {true, virDomainIsActive(d.p) == 1, autostart == 1,
          TakeXml(virDomainGetXMLDesc(d.p, VIR_DOMAIN_XML_INACTIVE))};
}

Status Hypervisor::DefineDomain(const std::string& xml) {
  DomPtr d(virDomainDefineXML(conn_, xml.c_str()));
  if (!d) return Failure("define domain");
  return Ok();
}

Status Hypervisor::StartDomain(const std::string& name, bool autostart) {
  DomPtr d(virDomainLookupByName(conn_, name.c_str()));
  if (!d) return Failure("look up domain " + name);
  if (virDomainSetAutostart(d.p, autostart ? 1 : 0) < 0) return Failure("set autostart of domain " + name);
  if (virDomainIsActive(d.p) != 1 && virDomainCreate(d.p) < 0) return Failure("start domain " + name);
  return Ok();
}

Status Hypervisor::DeleteDomain(const std::string& name) {
  DomPtr d(virDomainLookupByName(conn_, name.c_str()));
  if (!d) return Ok();
  if (virDomainIsActive(d.p) == 1 && virDomainDestroy(d.p) < 0) return Failure("stop domain " + name);
  unsigned flags = VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_TPM;
  if (virDomainUndefineFlags(d.p, flags) < 0 && virDomainUndefine(d.p) < 0) return Failure("undefine domain " + name);
  return Ok();
}

Inventory Hypervisor::List() {
  Inventory inv;
  virDomainPtr* doms = nullptr;
  int n = virConnectListAllDomains(conn_, &doms, 0);
  for (int i = 0; i < n; ++i) {
    inv.domains.emplace_back(virDomainGetName(doms[i]));
    virDomainFree(doms[i]);
  }
  free(doms);
  virNetworkPtr* nets = nullptr;
  n = virConnectListAllNetworks(conn_, &nets, 0);
  for (int i = 0; i < n; ++i) {
    inv.networks.emplace_back(virNetworkGetName(nets[i]));
    virNetworkFree(nets[i]);
  }
  free(nets);
  virStoragePoolPtr* pools = nullptr;
  n = virConnectListAllStoragePools(conn_, &pools, 0);
  for (int i = 0; i < n; ++i) {
    std::string pname = virStoragePoolGetName(pools[i]);
    inv.pools.push_back(pname);
    virStorageVolPtr* vols = nullptr;
    int m = virStoragePoolListAllVolumes(pools[i], &vols, 0);
    for (int k = 0; k < m; ++k) {
      inv.volumes.push_back(pname + "/" + virStorageVolGetName(vols[k]));
      virStorageVolFree(vols[k]);
    }
    free(vols);
    virStoragePoolFree(pools[i]);
  }
  free(pools);
  for (auto* v : {&inv.domains, &inv.networks, &inv.pools, &inv.volumes}) std::sort(v->begin(), v->end());
  return inv;
}

}  // namespace slipway::installer
