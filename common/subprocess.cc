// Subprocess runner (fork + execvp, both outputs through pipes and poll).
#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/strings.h"

namespace slipway {

Result<RunOutput> RunCommand(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) return Error::Input("empty command");
  if (!options.create_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.create_dir, ec);
  }
  int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      (options.input && ::pipe2(in_pipe, O_CLOEXEC) != 0)) {
    return Error::Errno("cannot create a pipe for", argv[0], errno);
  }
  pid_t pid = ::fork();
  if (pid < 0) return Error::Errno("cannot fork for", argv[0], errno);
  if (pid == 0) {
    if (options.input) ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::string msg = "cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  // The input goes in while the outputs come out, so that a command that
  // answers before it has read everything cannot dead-lock with us.
  size_t written = 0;
  // A command that exits without reading all of its input must give us
  // EPIPE, not SIGPIPE (which would end this program).
  struct sigaction ignore {
  }, saved{};
  ignore.sa_handler = SIG_IGN;
  if (options.input) ::sigaction(SIGPIPE, &ignore, &saved);
  if (options.input) {
    ::close(in_pipe[0]);
    ::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    if (options.input->empty()) {
      ::close(in_pipe[1]);
      in_pipe[1] = -1;
    }
  }
  RunOutput r;
  pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_pipe[1], POLLOUT, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open = 2;
  char buf[65536];
  while (open > 0) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(fds[2].fd, options.input->data() + written, options.input->size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == options.input->size()) {
        ::close(fds[2].fd);  // done, or the command closed its stdin (EPIPE)
        fds[2].fd = -1;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  if (fds[2].fd >= 0) ::close(fds[2].fd);
  if (options.input) ::sigaction(SIGPIPE, &saved, nullptr);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (r.exit_code != 0 && !options.allow_failure) {
    std::string tail = std::string(Trim(r.err.size() > 2000 ? r.err.substr(r.err.size() - 2000) : r.err));
    return Error::Runtime("'" + Join(argv, " ") + "' failed with exit code " + std::to_string(r.exit_code) +
                          (tail.empty() ? "" : ":\n" + tail));
  }
  return r;
}

}  // namespace slipway
