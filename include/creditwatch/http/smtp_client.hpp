#pragma once

#include "creditwatch/common/clock.hpp"
#include "creditwatch/common/result.hpp"
#include "creditwatch/http/http_client.hpp"

#include <atomic>
#include <string>
#include <vector>

namespace creditwatch::http {

// How an smtp:// connection is upgraded to TLS. smtps:// URLs are TLS from the start.
enum class StartTls {
  required,       // STARTTLS or fail (CURLUSESSL_ALL)
  opportunistic,  // STARTTLS when offered, else plain text (CURLUSESSL_TRY)
  off,            // plain text (loopback relays only; the config layer enforces that)
};

// One message for one SMTP submission. The message text is complete (headers, blank
// line, body) with CRLF line ends; libcurl dot-stuffs it on the wire.
struct MailRequest {
  std::string url;  // smtp://host[:port] or smtps://host[:port]
  StartTls starttls = StartTls::required;
  std::string username;  // AUTH only when set
  std::string password;  // never logged
  std::string from;      // envelope sender, a bare address
  std::vector<std::string> to;
  std::string message;
  Duration connect_timeout = std::chrono::seconds(5);
  Duration total_timeout = std::chrono::seconds(20);
};

// The server's last reply: its code and its text (e.g. 250 "OK queued as 1234").
struct MailReply {
  long code = 0;
  std::string text;
};

// Why a message was not accepted. `reply` is the server's last answer when there was one
// (a 550 for a rejected recipient, a 451 for a greylisting relay), code 0 when the
// conversation never got that far (connect, TLS, timeout).
struct MailFailure {
  FailureKind kind;
  std::string message;  // curl's explanation plus the server's answer, free of credentials
  MailReply reply;
};

using MailOutcome = Result<MailReply, MailFailure>;

// Submits one message through libcurl with its own easy handle: connect and total
// timeouts, protocols limited to smtp/smtps, TLS verification always on. While *cancel is
// true the transfer aborts within a few hundred milliseconds. Thread-safe (no shared state).
MailOutcome send_mail(const MailRequest& request, const std::atomic<bool>* cancel = nullptr);

}  // namespace creditwatch::http
