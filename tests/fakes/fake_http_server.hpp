#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace creditwatch::testing {

// What the fake saw, for assertions.
struct RecordedRequest {
  std::string method;
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string target;  // the path with its query string, as sent ("/x?wait=true")
  std::string header(const std::string& name) const;
};

// An HTTP server on 127.0.0.1 with a port chosen by the kernel, serving in a background
// thread until destroyed. Tests add handlers that answer with a provider's or sink's
// documented bodies; every request is recorded.
class FakeHttpServer {
public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  FakeHttpServer();
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  void get(const std::string& pattern, Handler handler);
  void post(const std::string& pattern, Handler handler);
  // Starts listening; call after adding handlers.
  void start();

  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;

private:
  void record(const httplib::Request& req);
  Handler recorded(Handler handler);

  std::unique_ptr<httplib::Server> m_server;
  std::thread m_thread;
  int m_port = 0;
  mutable std::mutex m_mutex;
  std::vector<RecordedRequest> m_requests;
};

// Helpers for handlers.
void reply_json(httplib::Response& res, int status, const std::string& body);

}  // namespace creditwatch::testing
