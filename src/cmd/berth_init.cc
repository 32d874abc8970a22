// berth-init: the pid 1 of `docker run --init` containers, bind-mounted at /sbin/docker-init.
//
//   berth-init [--] CMD [ARGS...]
//
// Runs CMD as its child, forwards the signals it receives to it, reaps every zombie that is
// reparented to it (orphans of the container), and exits with CMD's status: its exit code, or
// 128+N if a signal N killed it. Linked statically so that it runs in any image.
//
// The child gets its own process group, made the terminal's foreground group when stdin is a
// terminal, so that ^C reaches the command once (from the kernel) instead of twice.

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <initializer_list>

namespace {

// Signals that report a fault of this process stay unblocked; every other one is taken with
// sigwaitinfo and forwarded.
void ForwardedSignals(sigset_t* set) {
  sigfillset(set);
  for (int sig : {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS, SIGKILL, SIGSTOP})
    sigdelset(set, sig);
}

int StatusCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) {
    fprintf(stderr, "usage: %s [--] CMD [ARGS...]\n", argv[0]);
    return 1;
  }
  // Not pid 1 (a --pid=host container, or a test): orphans still come here.
  if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  sigset_t forwarded, old;
  ForwardedSignals(&forwarded);
  sigprocmask(SIG_BLOCK, &forwarded, &old);

  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "berth-init: fork: %s\n", strerror(errno));
    return 1;
  }
  if (child == 0) {
    setpgid(0, 0);
    // SIGTTOU is still blocked here, so a background group may take the terminal.
    if (isatty(STDIN_FILENO)) tcsetpgrp(STDIN_FILENO, getpid());
    sigprocmask(SIG_SETMASK, &old, nullptr);
    execvp(argv[first], argv + first);
    int err = errno;
    fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
  }
  setpgid(child, child);  // also from here: no race with the first forwarded signal

  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&forwarded, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "berth-init: sigwaitinfo: %s\n", strerror(errno));
      return 1;
    }
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    // One SIGCHLD may stand for many exits: reap until none is left.
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid == child) return StatusCode(status);
    }
  }
}
