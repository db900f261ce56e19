// Catch2 v2 main for all test binaries.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "common/sanitizer_options.h"
