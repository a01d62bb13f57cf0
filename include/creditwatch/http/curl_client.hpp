#pragma once

#include "creditwatch/http/http_client.hpp"

#include <atomic>
#include <memory>

namespace creditwatch::http {

// libcurl implementation. Keeps one easy handle so connections are reused (keep-alive)
// between requests to the same host.
class CurlClient final : public Client {
public:
  CurlClient();
  ~CurlClient() override;
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  Outcome send(const Request& request) override;

  // While *flag is true, transfers abort within a few hundred milliseconds (shutdown).
  void set_cancel_flag(const std::atomic<bool>* flag) { m_cancel = flag; }
  const std::atomic<bool>* cancel_flag() const override { return m_cancel; }

private:
  const std::atomic<bool>* m_cancel = nullptr;
  struct Handle;
  std::unique_ptr<Handle> m_handle;
};

// Calls curl_global_init once; safe from any thread.
void global_init();
// "libcurl/7.88.1 OpenSSL/3.0.x ..."
std::string curl_version_text();

}  // namespace creditwatch::http
