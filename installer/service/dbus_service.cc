// sd-bus service.
#include "installer/service/dbus_service.h"

#include <systemd/sd-bus.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "common/atomic_file.h"
#include "common/json_text.h"

namespace slipway::installer {

namespace {

constexpr const char* kName = "org.slipway.Installer1";
constexpr const char* kPath = "/org/slipway/Installer1";

struct Event {
  enum Kind { kPhase, kStep } kind;
  std::string text;
};

struct State {
  std::mutex mu;
  std::string phase = "Idle", step, profile, host_id, report = "{}", plan_path;
  uint32_t progress = 0;
  std::deque<Event> events;
  std::atomic<bool> start_requested{false}, cancelled{false}, finished{false};
  std::string start_profile;
};

int GetString(sd_bus*, const char*, const char*, const char* property, sd_bus_message* reply, void* data,
              sd_bus_error*) {
  auto* s = static_cast<State*>(data);
  std::lock_guard<std::mutex> lock(s->mu);
  std::string p = property;
  const std::string& v = p == "Phase"         ? s->phase
                         : p == "CurrentStep" ? s->step
                         : p == "Profile"     ? s->profile
                                              : s->host_id;
  return sd_bus_message_append(reply, "s", v.c_str());
}

int GetProgress(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* data, sd_bus_error*) {
  auto* s = static_cast<State*>(data);
  std::lock_guard<std::mutex> lock(s->mu);
  return sd_bus_message_append(reply, "u", s->progress);
}

int GetReport(sd_bus_message* m, void* data, sd_bus_error*) {
  auto* s = static_cast<State*>(data);
  std::lock_guard<std::mutex> lock(s->mu);
  return sd_bus_reply_method_return(m, "s", s->report.c_str());
}

int GetPlan(sd_bus_message* m, void* data, sd_bus_error* err) {
  auto* s = static_cast<State*>(data);
  std::string path;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    path = s->plan_path;
  }
  auto text = ReadFile(path);
  if (!text) return sd_bus_error_set(err, "org.slipway.Installer1.Error.NoPlan", "no plan has been made yet");
  return sd_bus_reply_method_return(m, "s", text->c_str());
}

// Start and Cancel change the host: uid 0 only, whatever the bus policy says.
int RequireRoot(sd_bus_message* m, sd_bus_error* err) {
  sd_bus_creds* creds = nullptr;
  uid_t uid = static_cast<uid_t>(-1);
  int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
  if (r >= 0) r = sd_bus_creds_get_euid(creds, &uid);
  sd_bus_creds_unref(creds);
  if (r < 0 || uid != 0) {
    return sd_bus_error_set(err, SD_BUS_ERROR_ACCESS_DENIED, "only root may start or cancel the installation");
  }
  return 1;
}

int Start(sd_bus_message* m, void* data, sd_bus_error* err) {
  if (int r = RequireRoot(m, err); r <= 0) return r;
  auto* s = static_cast<State*>(data);
  const char* profile = "";
  if (int r = sd_bus_message_read(m, "s", &profile); r < 0) return r;
  if (s->start_requested.exchange(true)) {
    return sd_bus_error_set(err, "org.slipway.Installer1.Error.AlreadyStarted", "the installation has already started");
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    s->start_profile = profile;
  }
  return sd_bus_reply_method_return(m, "");
}

int Cancel(sd_bus_message* m, void* data, sd_bus_error* err) {
  if (int r = RequireRoot(m, err); r <= 0) return r;
  static_cast<State*>(data)->cancelled = true;
  return sd_bus_reply_method_return(m, "");
}

const sd_bus_vtable kVtable[] = {SD_BUS_VTABLE_START(0),
                                 SD_BUS_PROPERTY("Phase", "s", GetString, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
                                 SD_BUS_PROPERTY("Progress", "u", GetProgress, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
                                 SD_BUS_PROPERTY("CurrentStep", "s", GetString, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
                                 SD_BUS_PROPERTY("Profile", "s", GetString, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
                                 SD_BUS_PROPERTY("HostId", "s", GetString, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
                                 SD_BUS_METHOD("GetReport", "", "s", GetReport, SD_BUS_VTABLE_UNPRIVILEGED),
                                 SD_BUS_METHOD("GetPlan", "", "s", GetPlan, SD_BUS_VTABLE_UNPRIVILEGED),
                                 SD_BUS_METHOD("Start", "s", "", Start, SD_BUS_VTABLE_UNPRIVILEGED),
                                 SD_BUS_METHOD("Cancel", "", "", Cancel, SD_BUS_VTABLE_UNPRIVILEGED),
                                 SD_BUS_SIGNAL("PhaseChanged", "s", 0),
                                 SD_BUS_SIGNAL("StepFinished", "sbs", 0),
                                 SD_BUS_VTABLE_END};

Result<sd_bus*> Connect(const std::string& address) {
  sd_bus* bus = nullptr;
  int r;
  if (address.empty()) {
    r = sd_bus_open_system(&bus);
  } else {
    r = sd_bus_new(&bus);
    if (r >= 0) r = sd_bus_set_address(bus, address.c_str());
    if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
    if (r >= 0) r = sd_bus_start(bus);
  }
  if (r < 0) {
    sd_bus_unref(bus);
    return Error::Runtime("cannot connect to D-Bus " + (address.empty() ? std::string("system bus") : address) + ": " +
                          strerror(-r));
  }
  return bus;
}

}  // namespace

Result<InstallOutcome> ServeInstaller(const InstallOptions& install, const ServiceOptions& o,
                                      const InstallSink& console) {
  auto connected = Connect(o.bus_address);
  if (!connected) return std::move(connected).error();
  sd_bus* bus = *connected;
  State state;
  state.plan_path = install.state_dir + "/plan.json";
  sd_bus_slot* slot = nullptr;
  int r = sd_bus_add_object_vtable(bus, &slot, kPath, kName, kVtable, &state);
  if (r >= 0) r = sd_bus_request_name(bus, kName, 0);
  if (r < 0) {
    sd_bus_slot_unref(slot);
    sd_bus_flush_close_unref(bus);
    return Error::Runtime(std::string("cannot serve ") + kName + " on the bus: " + strerror(-r) +
                          " (is the policy file installed, or another installer running?)");
  }
  if (!o.wait_for_start) state.start_requested = true;

  // The worker reports through the queue; the bus thread emits.
  InstallSink sink;
  const auto& phases = InstallPhases();
  sink.phase = [&](const std::string& p) {
    if (console.phase) console.phase(p);
    std::lock_guard<std::mutex> lock(state.mu);
    state.phase = p;
    size_t i = std::find(phases.begin(), phases.end(), p) - phases.begin();
    // A boot after the install: Converging is half way, Running is the end.
    state.progress = p == "Converging" ? 50 : static_cast<uint32_t>(100 * i / phases.size());
    state.events.push_back({Event::kPhase, p});
  };
  sink.status = [&](const std::string& s) {
    if (console.status) console.status(s);
    std::lock_guard<std::mutex> lock(state.mu);
    state.step = s;
    state.events.push_back({Event::kStep, s});
  };
  sink.cancelled = [&] { return state.cancelled.load(); };
  // The menu talks to the console from the worker thread; the bus thread
  // never reads the terminal.
  sink.choose = console.choose;
  sink.confirm = console.confirm;
  InstallOutcome outcome;
  std::thread worker;
  bool started = false;
  auto linger_until = std::chrono::steady_clock::time_point::max();
  bool finish_seen = false;
  while (true) {
    if (!started && state.start_requested) {
      started = true;
      InstallOptions opts = install;
      {
        std::lock_guard<std::mutex> lock(state.mu);
        if (!state.start_profile.empty()) opts.profile_override = state.start_profile;
      }
      worker = std::thread([&, opts] {
        outcome = RunInstall(opts, sink);
        std::lock_guard<std::mutex> lock(state.mu);
        state.report = DumpJson(outcome.report, 2);
        state.profile = outcome.report.value("profile", std::string());
        state.host_id = outcome.report.value("host_id", std::string());
        bool ok = outcome.report.value("result", std::string()) == "ok";
        // An install ends in Done; a converging boot stays Running (its VMs run).
        state.phase = !ok ? "Failed" : outcome.report.value("final_phase", std::string("Done"));
        state.progress = 100;
        state.events.push_back({Event::kPhase, state.phase});
        state.finished = true;
      });
    }
    std::deque<Event> events;
    {
      std::lock_guard<std::mutex> lock(state.mu);
      events.swap(state.events);
    }
    for (const Event& e : events) {
      if (e.kind == Event::kPhase) {
        sd_bus_emit_signal(bus, kPath, kName, "PhaseChanged", "s", e.text.c_str());
        sd_bus_emit_properties_changed(bus, kPath, kName, "Phase", "Progress", nullptr);
      } else {
        sd_bus_emit_signal(bus, kPath, kName, "StepFinished", "sbs", e.text.c_str(), 1, e.text.c_str());
        sd_bus_emit_properties_changed(bus, kPath, kName, "CurrentStep", nullptr);
      }
    }
    if (state.finished && !finish_seen) {
      finish_seen = true;
      sd_bus_emit_properties_changed(bus, kPath, kName, "Profile", "HostId", nullptr);
      linger_until = std::chrono::steady_clock::now() + std::chrono::seconds(o.linger_seconds);
      if (o.finished) {
        if (worker.joinable()) worker.join();
        o.finished(outcome);
      }
      std::lock_guard<std::mutex> lock(state.mu);
      if (o.stay_while_running && state.phase == "Running") linger_until = std::chrono::steady_clock::time_point::max();
    }
    if (state.finished && events.empty() && std::chrono::steady_clock::now() >= linger_until) break;
    while ((r = sd_bus_process(bus, nullptr)) > 0) {
    }
    if (r < 0) break;
    sd_bus_wait(bus, 50000);
  }
  if (worker.joinable()) worker.join();
  sd_bus_flush(bus);
  sd_bus_slot_unref(slot);
  sd_bus_flush_close_unref(bus);
  return outcome;
}

}  // namespace slipway::installer
