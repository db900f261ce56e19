// Default sanitizer options for Slipway's executables. Include from exactly
// one translation unit per executable (its main). Only active in sanitizer
// builds (make asan); names the suppression file in tests/asan.supp.
#pragma once

#if defined(__SANITIZE_ADDRESS__) && defined(SLIPWAY_ASAN_SUPPRESSIONS)
extern "C" const char* __asan_default_options() { return "suppressions=" SLIPWAY_ASAN_SUPPRESSIONS ":detect_leaks=1"; }
#endif
