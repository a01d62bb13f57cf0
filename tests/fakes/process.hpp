#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace creditwatch::testing {

struct ProcessResult {
  int exit_code = -1;      // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs a program to completion with extra environment variables, capturing stdout and
// stderr. Kills it (SIGKILL) after `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs the creditwatch binary built beside the tests.
ProcessResult run_creditwatch(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A long-running child (the daemon) whose output goes to files; killed on destruction.
class BackgroundProcess {
public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                    const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  int pid() const { return m_pid; }
  void signal(int sig);
  // Waits for exit up to `timeout`; returns the exit code, -1 for a signal, -2 on timeout.
  int wait(std::chrono::milliseconds timeout);
  bool running();

private:
  int m_pid = -1;
  bool m_reaped = false;
  int m_status = 0;
};

// Polls `predicate` every 50 ms until true or `timeout` passes.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout);

std::string read_file(const std::string& path);
// How many times `needle` occurs in `text` (overlapping occurrences count).
std::size_t count_occurrences(const std::string& text, const std::string& needle);

}  // namespace creditwatch::testing

#include <thread>

template <typename Predicate>
bool creditwatch::testing::eventually(Predicate predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}
