// Subcommand dispatch and top-level help.
#include "cli/commands.h"

#include <array>
#include <ostream>
#include <vector>

#include "common/strings.h"

namespace slipway::cli {

namespace {

int RunVersion(std::span<char* const>, Io io) {
  io.out << "slipway " SLIPWAY_VERSION "\n";
  return 0;
}

constexpr std::array kCommands = {
    Command{"check", "validate profiles, fleet answer files and image definitions", RunCheck},
    Command{"detect", "report this host's hardware and Cluster Shared Volumes", RunDetect},
    Command{"match", "rank the hardware profiles that fit this host", RunMatch},
    Command{"preflight", "check this host against one hardware profile", RunPreflight},
    Command{"plan", "compute the deployment plan (or: plan diff OLD NEW)", RunPlan},
    Command{"lb", "render or sync (install) the LB rules for Services of type LoadBalancer", RunLb},
    Command{"apply", "apply a plan through libvirt (journaled, resumable)", RunApply},
    Command{"destroy", "remove what Slipway created (--cluster NAME or --all)", RunDestroy},
    Command{"bridge", "put this host's address on a bridge over its uplink (the VMs' external switch)", RunBridge},
    Command{"status", "show the installer's progress over D-Bus (--follow)", RunStatus},
    Command{"fleet", "check a fleet answer file, or aggregate installer reports", RunFleet},
    Command{"build", "build node images, the Windows kit, or the installer ISO (image, harden, iso)", RunBuild},
    Command{"version", "print the version", RunVersion},
};

void PrintHelp(std::ostream& out) {
  out << "usage: slipway COMMAND [OPTIONS]\n\n"
         "Slipway turns bare servers into Kubernetes hosts (see README.md).\n\n"
         "Commands:\n";
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(12 - c.name.size(), ' ') << c.summary << "\n";
  }
  out << "\nRun 'slipway COMMAND --help' for a command's options.\n"
         "Exit codes: 0 ok, 1 runtime failure, 2 usage or input error, 3 host not suitable.\n";
}

}  // namespace

std::span<const Command> Commands() { return kCommands; }

int Main(std::span<char* const> args, Io io) {
  if (args.empty()) {
    PrintHelp(io.err);
    return 2;
  }
  std::string_view name = args[0];
  if (name == "--help" || name == "help" || name == "-h") {
    PrintHelp(io.out);
    return 0;
  }
  if (name == "--version") return RunVersion({}, io);
  for (const Command& c : kCommands) {
    if (c.name == name) return c.run(args.subspan(1), io);
  }
  std::vector<std::string> names;
  for (const Command& c : kCommands) names.emplace_back(c.name);
  io.err << "slipway: error: unknown command '" << name << "'" << DidYouMeanSuffix(name, names)
         << "; run 'slipway --help' for the list\n";
  return 2;
}

}  // namespace slipway::cli
