// The subcommand table of the `slipway` CLI. Each command is a library
// function taking its arguments and the output streams, so tests can call it
// and main() stays a table lookup.
#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

namespace slipway::cli {

/// What a command gets: its arguments (after the subcommand name) and streams.
struct Io {
  std::ostream& out;
  std::ostream& err;
};

using CommandFn = int (*)(std::span<char* const> args, Io io);

struct Command {
  std::string_view name;
  std::string_view summary;  ///< one line for `slipway --help`
  CommandFn run;
};

std::span<const Command> Commands();

/// Runs `slipway ARGS...` (argv[0] excluded) and returns the exit code.
int Main(std::span<char* const> args, Io io);

int RunCheck(std::span<char* const> args, Io io);
int RunDetect(std::span<char* const> args, Io io);
int RunMatch(std::span<char* const> args, Io io);
int RunPreflight(std::span<char* const> args, Io io);
int RunPlan(std::span<char* const> args, Io io);
int RunLb(std::span<char* const> args, Io io);
int RunApply(std::span<char* const> args, Io io);
int RunBridge(std::span<char* const> args, Io io);
int RunDestroy(std::span<char* const> args, Io io);
int RunBuild(std::span<char* const> args, Io io);
int RunFleet(std::span<char* const> args, Io io);
int RunStatus(std::span<char* const> args, Io io);
/// slipway-installer's entry point.
int RunInstaller(std::span<char* const> args, Io io);

}  // namespace slipway::cli
