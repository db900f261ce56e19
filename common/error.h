// The one error type of Slipway: an exit code, a message and a chain of
// context ("while reading x.toml"), plus a small Result<T> because C++20 has
// no std::expected.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace slipway {

/// Process exit codes shared by every command (see docs/cli.md).
enum class ExitCode : int {
  kOk = 0,
  kRuntime = 1,         ///< something failed while doing the work
  kInput = 2,           ///< bad usage or bad input files
  kHostUnsuitable = 3,  ///< the host does not meet the requirements
};

/// An error a person can act on. Build it with the factories; add context
/// with Context() as it travels up ("opening x: caused by: ...").
class Error {
 public:
  static Error Runtime(std::string message) { return Error(ExitCode::kRuntime, std::move(message)); }
  static Error Input(std::string message) { return Error(ExitCode::kInput, std::move(message)); }
  static Error HostUnsuitable(std::string message) { return Error(ExitCode::kHostUnsuitable, std::move(message)); }
  /// An OS error: "`what` `path`: strerror(errno)".
  static Error Errno(std::string_view what, std::string_view path, int errnum);

  /// Adds an outer layer of context; the printed chain reads outermost first.
  Error& Context(std::string context) & {
    context_.push_back(std::move(context));
    return *this;
  }
  Error&& Context(std::string context) && {
    context_.push_back(std::move(context));
    return std::move(*this);
  }

  ExitCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "outer: inner: message", the form printed after "slipway: error: ".
  std::string ToString() const;

 private:
  Error(ExitCode code, std::string message) : code_(code), message_(std::move(message)) {}
  ExitCode code_;
  std::string message_;
  std::vector<std::string> context_;  // innermost first
};

/// Either a value or an Error. REQUIRES: check ok() before value()/error().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

/// A Result with no value: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_ = Error::Runtime("");
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() { return Status(); }

}  // namespace slipway
