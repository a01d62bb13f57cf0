#pragma once

// Real local peers for the sink tests, each on loopback in its own temp dir and killed on
// destruction: an aiosmtpd SMTP server (tests/fakes/smtp_server.py) and Debian's
// prometheus-alertmanager.
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace creditwatch::testing {

struct SmtpServerOptions {
  std::string user;      // AUTH required with this login when set
  std::string password;
  std::vector<std::string> reject;  // recipients answered 550
  std::vector<std::string> defer;   // recipients answered 451
};

// An SMTP server on 127.0.0.1 with a kernel-chosen port. messages() returns what it
// accepted, one JSON object per message (see smtp_server.py for the fields).
class SmtpServer {
public:
  explicit SmtpServer(const SmtpServerOptions& options = {});
  int port() const { return m_port; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(m_port); }
  std::vector<nlohmann::json> messages() const;
  std::string log() const;

private:
  TempDir m_dir;
  std::unique_ptr<BackgroundProcess> m_process;
  int m_port = 0;
};

// A port that was free a moment ago (bound to port 0 on 127.0.0.1, then closed), for
// servers that cannot report the port they bound themselves.
int free_port();

// prometheus-alertmanager 0.25 on 127.0.0.1, clustering off, a blackhole receiver.
class AlertmanagerServer {
public:
  AlertmanagerServer();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  // GET /api/v2/alerts: the alerts it holds that have not ended.
  nlohmann::json alerts() const;
  std::string log() const;

private:
  TempDir m_dir;
  std::unique_ptr<BackgroundProcess> m_process;
  int m_port = 0;
};

}  // namespace creditwatch::testing
