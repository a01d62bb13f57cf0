// `creditwatch run`: wiring only. Signals are read synchronously with sigtimedwait in the
// main thread (blocked everywhere else), so no work ever happens inside a signal handler.
#include "creditwatch/app/commands.hpp"
#include "creditwatch/app/logging.hpp"
#include "creditwatch/app/systemd.hpp"
#include "creditwatch/notify/outbox.hpp"
#include "creditwatch/scheduler/monitor.hpp"
#include "creditwatch/scheduler/runtime.hpp"
#include "creditwatch/storage/store.hpp"
#include "creditwatch/version.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <ctime>

namespace creditwatch::app {
namespace {

constexpr Duration k_shutdown_grace = std::chrono::seconds(3);

notify::RetryPolicy retry_policy(const config::Config& c) {
  return notify::RetryPolicy{c.alerting.retry_initial, c.alerting.retry_max, c.alerting.dead_after, 0.2};
}

void apply_logging(const config::Config& c, const std::string& cli_level) {
  setup_logging(cli_level.empty() ? c.logging.level : cli_level, c.logging.format);
  set_log_redactions(c.secrets());
}

sigset_t daemon_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::string status_line(const scheduler::Runtime& runtime, const scheduler::Monitor& monitor) {
  return "STATUS=watching " + std::to_string(runtime.config.accounts.size()) + " accounts, " +
         std::to_string(monitor.probes_done()) + " probes done";
}

class Daemon {
public:
  Daemon(std::shared_ptr<scheduler::Runtime> runtime, const RunOptions& options)
      : m_options(options),
        m_runtime(std::move(runtime)),
        m_store(m_runtime->config.storage.path),
        m_outbox(m_store, m_clock, retry_policy(m_runtime->config)),
        m_monitor(m_store, m_clock, m_outbox) {}

  int run() {
    m_outbox.set_notifiers(m_runtime->notifiers, retry_policy(m_runtime->config));
    m_monitor.set_runtime(m_runtime);
    m_monitor.start();
    spdlog::info("creditwatch {} watching {} accounts, {} notifiers, database {}", k_version,
                 m_runtime->config.accounts.size(), m_runtime->notifiers.size(), m_runtime->config.storage.path);
    notify_systemd("READY=1\n" + status_line(*m_runtime, m_monitor));
    wait_for_signals();
    notify_systemd("STOPPING=1");
    spdlog::info("shutting down");
    m_monitor.stop(k_shutdown_grace);
    m_outbox.stop(k_shutdown_grace);
    spdlog::info("stopped cleanly");
    return 0;
  }

private:
  void wait_for_signals() {
    const sigset_t set = daemon_signals();
    const timespec tick{1, 0};
    while (true) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) return;
      if (sig == SIGHUP) reload();
      heartbeat();
    }
  }

  // The watchdog is fed only while the scheduler loop is really going round.
  void heartbeat() {
    const auto silent = m_clock.now() - m_monitor.last_tick();
    if (silent < std::chrono::seconds(10)) {
      notify_systemd("WATCHDOG=1\n" + status_line(*m_runtime, m_monitor));
    } else {
      spdlog::error("scheduler loop has not ticked for {} s", std::chrono::duration_cast<std::chrono::seconds>(silent).count());
    }
  }

  void reload() {
    notify_systemd("RELOADING=1");
    spdlog::info("SIGHUP: reloading {}", m_options.config_path);
    try {
      auto next = scheduler::load_runtime(m_options.config_path, m_clock);
      if (next->config.storage.path != m_runtime->config.storage.path) {
        spdlog::warn("storage.path changed; the new path takes effect after a restart");
      }
      apply_logging(next->config, m_options.log_level);
      m_outbox.set_notifiers(next->notifiers, retry_policy(next->config));
      m_monitor.set_runtime(next);
      m_runtime = std::move(next);
      spdlog::info("reloaded: {} accounts, {} notifiers", m_runtime->config.accounts.size(), m_runtime->notifiers.size());
    } catch (const config::ConfigErrors& e) {
      for (const auto& error : e.errors()) spdlog::error("reload rejected: {}", error.to_string());
      spdlog::error("keeping the previous configuration");
    } catch (const std::exception& e) {
      spdlog::error("reload failed: {}; keeping the previous configuration", e.what());
    }
    notify_systemd("READY=1");
  }

  RunOptions m_options;
  SystemClock m_clock;
  std::shared_ptr<scheduler::Runtime> m_runtime;
  storage::Store m_store;
  notify::Outbox m_outbox;
  scheduler::Monitor m_monitor;
};

}  // namespace

int run_command(const RunOptions& options) {
  // Block before any thread exists so every thread inherits the mask.
  const sigset_t set = daemon_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  SystemClock clock;
  std::shared_ptr<scheduler::Runtime> runtime;
  try {
    runtime = scheduler::load_runtime(options.config_path, clock);
  } catch (const config::ConfigErrors& e) {
    for (const auto& error : e.errors()) spdlog::error("{}", error.to_string());
    return 1;
  }
  apply_logging(runtime->config, options.log_level);
  Daemon daemon(std::move(runtime), options);
  return daemon.run();
}

}  // namespace creditwatch::app
