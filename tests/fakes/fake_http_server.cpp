#include "fakes/fake_http_server.hpp"

#include <httplib.h>

#include <stdexcept>

namespace creditwatch::testing {

std::string RecordedRequest::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

FakeHttpServer::FakeHttpServer() : m_server(std::make_unique<httplib::Server>()) {
  // Requests no handler matches are recorded too (after the 404 goes out).
  m_server->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (res.status == 404 && !res.has_header("X-Fake-Handled")) record(req);
  });
}

FakeHttpServer::~FakeHttpServer() {
  m_server->stop();
  if (m_thread.joinable()) m_thread.join();
}

void FakeHttpServer::record(const httplib::Request& req) {
  RecordedRequest r{req.method, req.path, req.body, {}, req.target};
  for (const auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
  std::lock_guard lock(m_mutex);
  m_requests.push_back(std::move(r));
}

// Handlers are wrapped so each request is recorded before it is answered: a client that got
// its answer always finds its request in requests().
FakeHttpServer::Handler FakeHttpServer::recorded(Handler handler) {
  return [this, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_header("X-Fake-Handled", "1");
    handler(req, res);
  };
}

void FakeHttpServer::get(const std::string& pattern, Handler handler) { m_server->Get(pattern, recorded(std::move(handler))); }
void FakeHttpServer::post(const std::string& pattern, Handler handler) {
  m_server->Post(pattern, recorded(std::move(handler)));
}

void FakeHttpServer::start() {
  m_port = m_server->bind_to_any_port("127.0.0.1");
  if (m_port <= 0) throw std::runtime_error("fake server could not bind");
  m_thread = std::thread([this] { m_server->listen_after_bind(); });
  while (!m_server->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::vector<RecordedRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(m_mutex);
  return m_requests;
}

std::size_t FakeHttpServer::request_count() const {
  std::lock_guard lock(m_mutex);
  return m_requests.size();
}

void reply_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

}  // namespace creditwatch::testing
