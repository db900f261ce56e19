// Error rendering.
#include "common/error.h"

#include <cstring>

namespace slipway {

Error Error::Errno(std::string_view what, std::string_view path, int errnum) {
  std::string message(what);
  message += " ";
  message += path;
  message += ": ";
  message += std::strerror(errnum);
  return Error(ExitCode::kRuntime, std::move(message));
}

std::string Error::ToString() const {
  std::string out;
  for (auto it = context_.rbegin(); it != context_.rend(); ++it) {
    out += *it;
    out += ": ";
  }
  out += message_;
  return out;
}

}  // namespace slipway
