// Fuzz target: the journal reader. The bytes become STATE/journal.jsonl and
// Journal::Open replays them: a journal or an error naming the line, never a
// crash. (Open repairs a torn tail in place, so the file is rewritten each run.)
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "installer/apply/journal.h"

using namespace slipway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::string dir = [] {
    std::string tmpl = "/tmp/slipway-fuzz-journal-XXXXXX";
    return std::string(::mkdtemp(tmpl.data()));
  }();
  {
    std::ofstream out(dir + "/journal.jsonl", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto j = installer::Journal::Open(dir);
  if (j) (void)j->LastState("volume:x");
  return 0;
}
