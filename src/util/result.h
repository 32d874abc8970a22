#pragma once

// Result<T>: a value or an Error, with std::expected's member names so that it can become an
// alias of std::expected<T, Error> once the project moves to C++23.
//
//   Result<Fd> Open(const std::string& path);
//   Result<void> Use() {
//     Fd fd = BERTH_TRY(Open("/x"));          // returns the error to the caller
//     BERTH_TRY(WriteAll(fd, "data"));        // same, for Result<void>
//     return {};
//   }

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "util/error.h"

namespace berth {

template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  template <typename U = T>
  requires std::is_constructible_v<T, U&&> &&
      (!std::is_same_v<std::decay_t<U>, Error>)&&(!std::is_same_v<std::decay_t<U>, Result>)
          Result(U&& value)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  template <typename U>
  T value_or(U&& other) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(other));
  }

  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { assert(ok_); }

  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

}  // namespace berth

/// Evaluates a Result expression; on error returns it from the enclosing function, else the
/// expression's value (nothing for Result<void>). A GNU statement expression (GCC and Clang).
#define BERTH_TRY(expr)                                                  \
  ({                                                                     \
    auto&& berth_try_result_ = (expr);                                   \
    if (!berth_try_result_) return std::move(berth_try_result_).error(); \
    std::move(berth_try_result_).value();                                \
  })

/// Like BERTH_TRY, but puts "context: " in front of the error's message.
#define BERTH_TRY_CTX(expr, context)                                                   \
  ({                                                                                   \
    auto&& berth_try_result_ = (expr);                                                 \
    if (!berth_try_result_) return std::move(berth_try_result_).error().Wrap(context); \
    std::move(berth_try_result_).value();                                              \
  })
