// The installer's D-Bus API, org.slipway.Installer1 at /org/slipway/Installer1,
// implemented with sd-bus (docs/installer.md). The installation runs in a
// worker thread; only the bus thread touches the bus. Read-only calls are
// open to everyone; Start and Cancel need uid 0 (checked with the sender's
// credentials, and by the shipped policy file on the system bus).
#pragma once

#include <functional>
#include <string>

#include "common/error.h"
#include "installer/service/install_run.h"

namespace slipway::installer {

struct ServiceOptions {
  std::string bus_address;      ///< "" = the system bus
  bool wait_for_start = false;  ///< run only when a client calls Start
  int linger_seconds = 0;       ///< keep serving this long after the run ends
  /// After a boot that converged (phase Running), keep serving until the
  /// process is stopped, so that `slipway status` shows the VMs.
  bool stay_while_running = false;
  /// Called once, on the serving thread, when the run ends (before any linger).
  std::function<void(const InstallOutcome&)> finished;
};

/// Serves the API and runs the installation. Returns its outcome.
Result<InstallOutcome> ServeInstaller(const InstallOptions& install, const ServiceOptions& service,
                                      const InstallSink& console);

}  // namespace slipway::installer
