#pragma once

#include <utility>

namespace berth {

/// Runs a callable when it leaves scope, unless Cancel()ed (seastar's deferred_action).
///
///   auto undo = ScopeExit([&] { rmdir(dir.c_str()); });
///   ...
///   undo.Cancel();  // setup succeeded: keep the directory
template <typename F>
class [[nodiscard]] ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ScopeExit(ScopeExit&& other) noexcept : f_(std::move(other.f_)), active_(other.active_) {
    other.active_ = false;
  }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ~ScopeExit() {
    if (active_) f_();
  }
  void Cancel() { active_ = false; }

 private:
  F f_;
  bool active_ = true;
};

}  // namespace berth
