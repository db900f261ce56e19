// slipway-installer: the first-boot service's front door.
#include <iostream>
#include <span>

#include "cli/commands.h"
#include "common/sanitizer_options.h"

int main(int argc, char** argv) {
  return slipway::cli::RunInstaller(std::span<char* const>(argv + 1, static_cast<size_t>(argc - 1)),
                                    {std::cout, std::cerr});
}
