#pragma once

// The container's terminal: a pty opened inside the container (its own devpts), whose master
// end is handed to whoever asked for it over a unix socket with SCM_RIGHTS — runc's
// --console-socket protocol, which containerd and podman's conmon speak.

#include <string>
#include <string_view>

#include "oci/runtime_spec.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::runtime::console {

struct Pty {
  Fd master;
  std::string slave_path;  // /dev/pts/N as seen by the opener
};

/// Opens /dev/ptmx (of the caller's mount namespace) and unlocks the slave.
Result<Pty> OpenPty();
/// Makes the slave the caller's stdin, stdout, stderr and controlling terminal (setsid,
/// TIOCSCTTY), with the given size if any.
Result<void> AttachSlave(const std::string& slave_path, const oci::ConsoleSize* size);
/// Connects to a console socket (a unix stream socket path).
Result<Fd> ConnectSocket(const std::string& path);
/// Sends fd over a connected unix socket with `name` as the message data.
Result<void> SendFd(int socket, int fd, std::string_view name);
/// Receives one fd sent with SendFd.
Result<Fd> RecvFd(int socket);

/// Copies between the caller's stdio and a pty master until the master closes (the container
/// exited). Puts the caller's terminal in raw mode while copying, when stdin is a terminal.
void Proxy(int master);

}  // namespace berth::runtime::console
