#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace wubd::core {

// What went wrong, with enough context to act on it. `code` is domain-specific:
// an HTTP status where the error is meant for a client, 0 where nobody needs one.
struct Error {
  int code = 0;
  std::string message;
  int os_error = 0;  // the errno of the system call that failed, where one did (ENOSPC…)
};

// A value or an Error. Fallible functions in wubd return this instead of
// throwing, because exceptions must never cross the C frames of libuv or curl.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() { return std::get<0>(state_); }
  const T& value() const { return std::get<0>(state_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

inline Error make_error(std::string message, int code = 0) { return Error{code, std::move(message)}; }

// An error of a system call: `what` and strerror(os_error), keeping the errno.
inline Error make_os_error(const std::string& what, int os_error) {
  return Error{0, what + ": " + std::strerror(os_error), os_error};
}

}  // namespace wubd::core
