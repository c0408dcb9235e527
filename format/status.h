// Errors as values. A Status carries a code and a one-line message that already names the
// location (file:line:col, instruction, or artifact section); StatusOr<T> is a value or a Status.
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <variant>

namespace pjit {

// kUnavailable: what is needed is not here (a platform without its devices).
enum class StatusCode { kOk, kInvalidArgument, kNotFound, kUnimplemented, kInternal, kIo, kUnavailable };

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

inline Status OkStatus() { return Status(); }
template <typename... Args>
Status InvalidArgument(const Args&... args) {
  return Status(StatusCode::kInvalidArgument, StrCat(args...));
}
template <typename... Args>
Status NotFound(const Args&... args) {
  return Status(StatusCode::kNotFound, StrCat(args...));
}
template <typename... Args>
Status Unimplemented(const Args&... args) {
  return Status(StatusCode::kUnimplemented, StrCat(args...));
}
template <typename... Args>
Status Internal(const Args&... args) {
  return Status(StatusCode::kInternal, StrCat(args...));
}
template <typename... Args>
Status IoError(const Args&... args) {
  return Status(StatusCode::kIo, StrCat(args...));
}
template <typename... Args>
Status Unavailable(const Args&... args) {
  return Status(StatusCode::kUnavailable, StrCat(args...));
}

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}
  StatusOr(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr built from OK");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace pjit

#define PJIT_CONCAT_INNER(a, b) a##b
#define PJIT_CONCAT(a, b) PJIT_CONCAT_INNER(a, b)

#define PJIT_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::pjit::Status pjit_status_ = (expr);           \
    if (!pjit_status_.ok()) return pjit_status_;    \
  } while (0)

#define PJIT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#define PJIT_ASSIGN_OR_RETURN(lhs, expr) \
  PJIT_ASSIGN_OR_RETURN_IMPL(PJIT_CONCAT(pjit_statusor_, __LINE__), lhs, expr)
