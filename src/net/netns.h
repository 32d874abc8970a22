#pragma once

// Network namespaces kept by a bind mount, as `ip netns add` keeps them under /run/netns.
//
// unshare(CLONE_NEWNET) and setns(2) change the namespace of the calling thread only, and
// berthd is multi-threaded: every function here does its namespace switching on a short-lived
// thread of its own, so no thread of the caller ever changes namespace.
//
//   BERTH_TRY(CreateNetns("/run/berth/netns/3f2a..."));     // a new netns with lo up
//   BERTH_TRY(InNetns("/run/berth/netns/3f2a...", []() -> Result<void> { ... }));
//   BERTH_TRY(DeleteNetns("/run/berth/netns/3f2a..."));
//
// A container joins the namespace through its OCI config (linux.namespaces: type "network",
// path NETNS_PATH); the namespace lives as long as its bind mount, so it survives berthd.

#include <functional>
#include <optional>
#include <string>
#include <type_traits>

#include "util/fd.h"
#include "util/result.h"

namespace berth::net {

/// Makes dir (and its parents) and turns it into a mount point of its own with shared
/// propagation, as `ip netns` does for /run/netns: a bind mount made inside it later then
/// propagates to mount namespaces cloned afterwards (a container's) rather than pinning a
/// namespace copy there. Idempotent. Errors: from mkdir/mount (PermissionDenied if not root).
Result<void> EnsureNetnsDir(const std::string& dir);

/// Creates a new network namespace with lo up, and keeps it by bind-mounting it onto path
/// (a new empty file; its parent dir goes through EnsureNetnsDir). Takes a thread that
/// unshares and exits. Errors: AlreadyExists if path exists; errno-based otherwise, with
/// nothing left behind.
Result<void> CreateNetns(const std::string& path);

/// Unmounts path (MNT_DETACH) and removes the file. The namespace itself goes when its last
/// user (process, socket, fd) goes. A missing path is not an error (idempotent).
Result<void> DeleteNetns(const std::string& path);

/// Opens the namespace file (O_RDONLY) for setns(2). Errors: NotFound, errno-based.
Result<Fd> OpenNetns(const std::string& path);

/// Runs fn on a fresh thread that has setns()'d into the namespace at path, and waits for it.
/// Sockets fn opens belong to that namespace for their whole life (a socket keeps the netns it
/// was created in), so this is also how to open a listening socket inside a container.
/// fn must not block forever; it must not rely on thread-local state of the caller.
/// Errors: those of OpenNetns/setns (wrapped with the path), or fn's own.
Result<void> RunInNetns(const std::string& path, const std::function<Result<void>()>& fn);

/// The typed form of RunInNetns: fn returns Result<T>, which is handed back.
template <typename F>
auto InNetns(const std::string& path, F&& fn) -> std::invoke_result_t<F> {
  using R = std::invoke_result_t<F>;
  using T = typename R::value_type;
  if constexpr (std::is_void_v<T>) {
    return RunInNetns(path, std::forward<F>(fn));
  } else {
    std::optional<R> out;
    BERTH_TRY(RunInNetns(path, [&]() -> Result<void> {
      out.emplace(fn());
      return {};
    }));
    return std::move(*out);
  }
}

}  // namespace berth::net
