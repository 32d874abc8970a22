#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace berth {

/// The classes of failure a caller may branch on (containerd's errdefs, leveldb's Status).
enum class ErrorCode {
  kNotFound,
  kAlreadyExists,
  kInvalidArgument,
  kFailedPrecondition,
  kConflict,
  kPermissionDenied,
  kUnavailable,
  kNotImplemented,
  kCanceled,
  kDataLoss,
  kInternal,
};

std::string_view ErrorCodeName(ErrorCode code);

/// An error: a class code, the errno that caused it (0 if none) and a message built from
/// context on the way up ("create container web: pivot_root /x: invalid argument").
/// Messages are lowercase, without a final period, and name the object.
class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message, int sys_errno = 0)
      : code_(code), errno_(sys_errno), message_(std::move(message)) {}

  static Error NotFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
  static Error AlreadyExists(std::string m) { return {ErrorCode::kAlreadyExists, std::move(m)}; }
  static Error InvalidArgument(std::string m) {
    return {ErrorCode::kInvalidArgument, std::move(m)};
  }
  static Error FailedPrecondition(std::string m) {
    return {ErrorCode::kFailedPrecondition, std::move(m)};
  }
  static Error Conflict(std::string m) { return {ErrorCode::kConflict, std::move(m)}; }
  static Error PermissionDenied(std::string m) {
    return {ErrorCode::kPermissionDenied, std::move(m)};
  }
  static Error Unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
  static Error NotImplemented(std::string m) { return {ErrorCode::kNotImplemented, std::move(m)}; }
  static Error Canceled(std::string m) { return {ErrorCode::kCanceled, std::move(m)}; }
  static Error DataLoss(std::string m) { return {ErrorCode::kDataLoss, std::move(m)}; }
  static Error Internal(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }

  /// "context: strerror(err)", with the code derived from the errno (ENOENT → NotFound, ...).
  static Error FromErrno(int err, std::string_view context);

  ErrorCode code() const { return code_; }
  int sys_errno() const { return errno_; }
  const std::string& message() const { return message_; }

  /// The same error with "context: " in front of its message.
  Error Wrap(std::string_view context) const&;
  Error Wrap(std::string_view context) &&;

  bool IsNotFound() const { return code_ == ErrorCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == ErrorCode::kAlreadyExists; }
  bool IsInvalidArgument() const { return code_ == ErrorCode::kInvalidArgument; }
  bool IsFailedPrecondition() const { return code_ == ErrorCode::kFailedPrecondition; }
  bool IsConflict() const { return code_ == ErrorCode::kConflict; }
  bool IsPermissionDenied() const { return code_ == ErrorCode::kPermissionDenied; }
  bool IsNotImplemented() const { return code_ == ErrorCode::kNotImplemented; }

 private:
  ErrorCode code_;
  int errno_;
  std::string message_;
};

/// The class an errno falls in.
ErrorCode ErrorCodeFromErrno(int err);

}  // namespace berth
