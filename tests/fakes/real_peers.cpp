#include "fakes/real_peers.hpp"

#include <doctest/doctest.h>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace creditwatch::testing {

SmtpServer::SmtpServer(const SmtpServerOptions& options) {
  std::vector<std::string> argv = {"/usr/bin/python3", std::string(CREDITWATCH_SOURCE_DIR) + "/tests/fakes/smtp_server.py",
                                   "--dir", m_dir.path()};
  if (!options.user.empty()) argv.insert(argv.end(), {"--user", options.user, "--password", options.password});
  for (const auto& r : options.reject) argv.insert(argv.end(), {"--reject", r});
  for (const auto& d : options.defer) argv.insert(argv.end(), {"--defer", d});
  m_process = std::make_unique<BackgroundProcess>(argv, std::map<std::string, std::string>{}, m_dir.file("log"));
  const bool up = eventually([&] { return log().find("PORT ") != std::string::npos; }, std::chrono::seconds(20));
  REQUIRE_MESSAGE(up, "the SMTP server did not start:\n" << log());
  m_port = std::stoi(log().substr(log().find("PORT ") + 5));
}

std::string SmtpServer::log() const { return read_file(m_dir.file("log")); }

std::vector<nlohmann::json> SmtpServer::messages() const {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(m_dir.path())) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  // 1.json, 2.json, ...: numeric order is arrival order.
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  std::vector<nlohmann::json> out;
  for (const auto& f : files) out.push_back(nlohmann::json::parse(read_file(f)));
  return out;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("bind failed");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

AlertmanagerServer::AlertmanagerServer() {
  m_dir.write("alertmanager.yml", "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n");
  // The port may be taken between free_port() and the bind: try a few.
  for (int attempt = 0; attempt < 3; ++attempt) {
    m_port = free_port();
    m_process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"/usr/bin/prometheus-alertmanager", "--config.file=" + m_dir.file("alertmanager.yml"),
                                 "--storage.path=" + m_dir.file("data"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(m_port),
                                 "--cluster.listen-address=", "--log.level=debug"},
        std::map<std::string, std::string>{}, m_dir.file("log"));
    const bool ready = eventually(
        [&] {
          if (!m_process->running()) return true;
          httplib::Client client("127.0.0.1", m_port);
          client.set_connection_timeout(std::chrono::seconds(1));
          auto res = client.Get("/-/ready");
          return res && res->status == 200;
        },
        std::chrono::seconds(30));
    if (ready && m_process->running()) return;
  }
  FAIL("alertmanager did not become ready:\n" << log());
}

std::string AlertmanagerServer::log() const { return read_file(m_dir.file("log")); }

nlohmann::json AlertmanagerServer::alerts() const {
  httplib::Client client("127.0.0.1", m_port);
  auto res = client.Get("/api/v2/alerts");
  if (!res || res->status != 200) return nlohmann::json();
  return nlohmann::json::parse(res->body, nullptr, false);
}

}  // namespace creditwatch::testing
