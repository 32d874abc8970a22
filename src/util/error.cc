#include "util/error.h"

#include <cerrno>
#include <cstring>

namespace berth {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kFailedPrecondition:
      return "failed precondition";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPermissionDenied:
      return "permission denied";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kNotImplemented:
      return "not implemented";
    case ErrorCode::kCanceled:
      return "canceled";
    case ErrorCode::kDataLoss:
      return "data loss";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

ErrorCode ErrorCodeFromErrno(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
    case ENXIO:
    case ENODEV:
      return ErrorCode::kNotFound;
    case EEXIST:
      return ErrorCode::kAlreadyExists;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case E2BIG:
    case EXDEV:
      return ErrorCode::kInvalidArgument;
    case EPERM:
    case EACCES:
    case EROFS:
      return ErrorCode::kPermissionDenied;
    case EBUSY:
    case ENOTEMPTY:
      return ErrorCode::kConflict;
    case EAGAIN:
    case EINTR:
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case ECONNREFUSED:
      return ErrorCode::kUnavailable;
    case ENOSYS:
    case EOPNOTSUPP:
      return ErrorCode::kNotImplemented;
    case ECANCELED:
      return ErrorCode::kCanceled;
    case EIO:
      return ErrorCode::kDataLoss;
    default:
      return ErrorCode::kInternal;
  }
}

Error Error::FromErrno(int err, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  // strerror capitalises ("No such file or directory"); messages are lowercase.
  size_t first = context.size() + 2;
  if (first < msg.size() && msg[first] >= 'A' && msg[first] <= 'Z') msg[first] += 'a' - 'A';
  return Error(ErrorCodeFromErrno(err), std::move(msg), err);
}

Error Error::Wrap(std::string_view context) const& {
  Error e = *this;
  return std::move(e).Wrap(context);
}

Error Error::Wrap(std::string_view context) && {
  std::string msg(context);
  msg += ": ";
  msg += message_;
  message_ = std::move(msg);
  return std::move(*this);
}

}  // namespace berth
