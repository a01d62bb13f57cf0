#pragma once
// Shared by test_provider_faults.cpp and test_secret_scan.cpp: a loopback server that
// misbehaves in one documented way per path prefix (`/<fault>/...`), a TLS server with a
// self-signed certificate made at test time, and a closed port. Each provider's base_url
// (or url) points under one prefix, so one server covers every provider class.

#include "fakes/fake_http_server.hpp"
#include "fakes/process.hpp"
#include "fakes/temp_dir.hpp"

#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace creditwatch::testing {

// How long a "slow" fault keeps the client waiting; probes time out well before.
inline constexpr auto k_fault_stall = std::chrono::milliseconds(1500);

// A port on 127.0.0.1 that nothing listens on (bound, then closed again).
inline int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The faults every provider class is put through, by name.
inline const std::vector<std::string> k_http_faults = {"500",       "503",         "429",            "401",  "402",
                                                        "html",      "truncated",   "wrong-types",    "huge", "drip",
                                                        "timeout",   "business-error", "deep-error"};

// Answers with `fault`; `wrong_types` is the body of the "wrong-types" fault (each provider
// class has its own shape). Slow faults block the server thread for about k_fault_stall.
inline void answer_fault(const std::string& fault, const std::string& wrong_types, httplib::Response& res) {
  auto reply = [&](int code, const std::string& body, const std::string& type = "application/json") {
    res.status = code;
    res.set_content(body, type);
  };
  if (fault == "500") reply(500, R"({"error":{"message":"internal error"}})");
  if (fault == "503") reply(503, "<html><body>Service Unavailable</body></html>", "text/html");
  if (fault == "429") {
    res.set_header("Retry-After", "42");
    reply(429, R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})");
  }
  if (fault == "401") {
    reply(401, R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})");
  }
  if (fault == "402") reply(402, R"({"error":{"message":"Insufficient Balance","type":"unknown_error"}})");
  if (fault == "html") reply(200, "<!DOCTYPE html><html><head><title>Relay</title></head><body>app</body></html>", "text/html");
  if (fault == "truncated") reply(200, R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_bal)");
  if (fault == "wrong-types") reply(200, wrong_types);
  if (fault == "deep-error") {  // {"error":{"error":...}} 100000 deep, just under the 1 MiB cap
    constexpr int k_depth = 100000;
    std::string body;
    body.reserve(k_depth * 10 + 3);
    for (int i = 0; i < k_depth; ++i) body += R"({"error":)";
    body += R"("deep")";
    body.append(k_depth, '}');
    reply(500, body);
  }
  if (fault == "business-error") reply(200, R"({"code":50000,"message":"system busy","status":false,"data":null})");
  if (fault == "timeout") {
    std::this_thread::sleep_for(k_fault_stall);
    reply(200, "{}");
  }
  if (fault == "huge") {
    constexpr std::size_t k_size = 64u << 20;  // 64 MiB
    res.set_content_provider(k_size, "application/json",
                             [chunk = std::string(64 << 10, ' ')](std::size_t offset, std::size_t length,
                                                                 httplib::DataSink& sink) {
                               return offset == 0 ? sink.write("[", 1)
                                                  : sink.write(chunk.data(), std::min(length, chunk.size()));
                             });
  }
  if (fault == "drip") {  // one byte every 100 ms: never idle long, never finished in time
    const auto started = std::chrono::steady_clock::now();
    res.set_chunked_content_provider("application/json", [started](std::size_t, httplib::DataSink& sink) {
      if (std::chrono::steady_clock::now() - started > k_fault_stall) {
        sink.done();
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      return sink.write(" ", 1);
    });
  }
}

// Answers every method on `/<fault>/...` with that fault (see answer_fault).
class FaultServer {
public:
  explicit FaultServer(std::string wrong_types) : m_wrong_types(std::move(wrong_types)) {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      answer_fault(req.matches[1], m_wrong_types, res);
    };
    m_server.get("/([a-z0-9-]+)(/.*)?", handler);
    m_server.post("/([a-z0-9-]+)(/.*)?", handler);
    m_server.start();
  }

  // The base URL whose every path misbehaves as `fault`.
  std::string url(const std::string& fault) const { return m_server.url() + "/" + fault; }
  std::size_t request_count() const { return m_server.request_count(); }

private:
  const std::string m_wrong_types;
  FakeHttpServer m_server;  // last: stops before the state its handlers use goes away
};

// An HTTPS server on 127.0.0.1 (python3's ssl module) whose certificate is self-signed,
// made with `openssl req -x509` in `dir`. Clients that verify certificates must refuse it.
class SelfSignedTlsServer {
public:
  explicit SelfSignedTlsServer(const TempDir& dir) {
    const auto cert = dir.file("tls-cert.pem");
    const auto key = dir.file("tls-key.pem");
    auto made = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                             "/CN=127.0.0.1", "-keyout", key, "-out", cert});
    REQUIRE_MESSAGE(made.exit_code == 0, "openssl req failed: " << made.err);
    const auto script = dir.write("tls_server.py",
                                  "import http.server, ssl, sys\n"
                                  "class H(http.server.BaseHTTPRequestHandler):\n"
                                  "    def do_GET(self):\n"
                                  "        self.send_response(200); self.end_headers(); self.wfile.write(b'{}')\n"
                                  "    do_POST = do_GET\n"
                                  "    def log_message(self, *args): pass\n"
                                  "s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
                                  "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
                                  "c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
                                  "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
                                  "print('port', s.server_address[1], flush=True)\n"
                                  "s.serve_forever()\n");
    m_log = dir.file("tls_server.log");
    m_process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"/usr/bin/python3", script, cert, key}, std::map<std::string, std::string>{}, m_log);
    static const std::regex port_line(R"(port (\d+))");
    std::smatch match;
    REQUIRE_MESSAGE(eventually(
                        [&] {
                          const auto text = read_file(m_log);
                          if (!std::regex_search(text, match, port_line)) return false;
                          m_port = std::stoi(match[1].str());
                          return true;
                        },
                        std::chrono::seconds(10)),
                    "the TLS server did not start: " << read_file(m_log));
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(m_port); }

private:
  std::string m_log;
  std::unique_ptr<BackgroundProcess> m_process;
  int m_port = 0;
};

}  // namespace creditwatch::testing
