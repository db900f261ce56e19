// slipway status: reads the installer's D-Bus API.
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "cli/commands.h"
#include "cli/host_context.h"
#include "common/json_text.h"

namespace slipway::cli {

namespace {

constexpr const char* kStatusHelp =
    "usage: slipway status [--follow] [--json] [--bus ADDRESS]\n\n"
    "Shows the installer's phase, progress and current step, read from\n"
    "org.slipway.Installer1 on the system bus (or ADDRESS). --follow keeps showing\n"
    "changes until the installation ends, then exits with its exit code. Once it\n"
    "ended (Done, Failed, or Running on a boot after the install), each cluster's\n"
    "VMs are listed with whether they run.\n";

struct Snapshot {
  std::string phase, step, profile, host;
  uint32_t progress = 0;
};

Result<Snapshot> Read(sd_bus* bus) {
  Snapshot s;
  const char* kDest = "org.slipway.Installer1";
  const char* kPath = "/org/slipway/Installer1";
  sd_bus_error err = SD_BUS_ERROR_NULL;
  for (auto [name, out] : {std::pair<const char*, std::string*>{"Phase", &s.phase},
                           {"CurrentStep", &s.step},
                           {"Profile", &s.profile},
                           {"HostId", &s.host}}) {
    char* v = nullptr;
    if (sd_bus_get_property_string(bus, kDest, kPath, kDest, name, &err, &v) < 0) {
      std::string msg = err.message ? err.message : "unknown error";
      sd_bus_error_free(&err);
      return Error::Runtime("cannot read the installer's " + std::string(name) + ": " + msg +
                            " (is slipway-installer running with --bus?)");
    }
    *out = v;
    free(v);
  }
  sd_bus_get_property_trivial(bus, kDest, kPath, kDest, "Progress", &err, 'u', &s.progress);
  sd_bus_error_free(&err);
  return s;
}

// Each cluster's VMs and whether they run, from the report's "domains".
void PrintDomains(const nlohmann::json& domains, bool json, Io io) {
  if (json) {
    io.out << DumpJson(nlohmann::json{{"domains", domains}}) << std::endl;
    return;
  }
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> by_cluster;
  size_t running = 0;
  for (const auto& d : domains) {
    std::string state = d.value("state", std::string("?"));
    running += state == "running";
    by_cluster[d.value("cluster", std::string("?"))].emplace_back(d.value("name", std::string("?")), state);
  }
  io.out << running << " of " << domains.size() << " VMs running\n";
  for (const auto& [cluster, vms] : by_cluster) {
    io.out << "cluster " << cluster << "\n";
    for (const auto& [name, state] : vms) io.out << "  " << name << "  " << state << "\n";
  }
}

}  // namespace

int RunStatus(std::span<char* const> argv, Io io) {
  auto args = Args::Parse(argv, {{"help"}, {"follow"}, {"json"}, {"bus", true}});
  if (!args) return UsageError("status", args.error(), kStatusHelp, io);
  if (args->Has("help")) {
    io.out << kStatusHelp;
    return 0;
  }
  sd_bus* bus = nullptr;
  int r;
  if (args->Has("bus")) {
    r = sd_bus_new(&bus);
    if (r >= 0) r = sd_bus_set_address(bus, args->Get("bus").c_str());
    if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
    if (r >= 0) r = sd_bus_start(bus);
  } else {
    r = sd_bus_open_system(&bus);
  }
  if (r < 0) return ReportError("status", Error::Runtime(std::string("cannot connect to D-Bus: ") + strerror(-r)), io);
  bool tty = ::isatty(STDOUT_FILENO) && !args->Has("json");
  std::string last;
  int code = 0;
  while (true) {
    auto s = Read(bus);
    if (!s) {
      sd_bus_flush_close_unref(bus);
      return ReportError("status", s.error(), io);
    }
    std::string line = s->phase + " " + std::to_string(s->progress) + "% " + s->step;
    if (line != last) {
      last = line;
      if (args->Has("json")) {
        io.out << DumpJson(nlohmann::json{{"phase", s->phase},
                                          {"progress", s->progress},
                                          {"step", s->step},
                                          {"profile", s->profile},
                                          {"host_id", s->host}})
               << std::endl;
      } else {
        std::string bar =
            "[" + std::string(s->progress * 30 / 100, '=') + std::string(30 - s->progress * 30 / 100, ' ') + "]";
        io.out << (tty ? bar + " " : "") << s->progress << "%  " << s->phase << (s->step.empty() ? "" : "  " + s->step)
               << std::endl;
      }
    }
    bool ended = s->phase == "Done" || s->phase == "Failed" || s->phase == "Running";
    if (ended) {
      sd_bus_message* reply = nullptr;
      sd_bus_error err = SD_BUS_ERROR_NULL;
      if (sd_bus_call_method(bus, "org.slipway.Installer1", "/org/slipway/Installer1", "org.slipway.Installer1",
                             "GetReport", &err, &reply, "") >= 0) {
        const char* text = nullptr;
        sd_bus_message_read(reply, "s", &text);
        nlohmann::json report = nlohmann::json::parse(text ? text : "", nullptr, false);
        code = report.is_object() ? report.value("exit_code", s->phase == "Failed" ? 1 : 0) : (s->phase == "Failed");
        if (report.is_object() && report.contains("domains") && report["domains"].is_array()) {
          PrintDomains(report["domains"], args->Has("json"), io);
        }
      }
      sd_bus_message_unref(reply);
      sd_bus_error_free(&err);
    }
    if (!args->Has("follow") || ended) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  sd_bus_flush_close_unref(bus);
  return code;
}

}  // namespace slipway::cli
