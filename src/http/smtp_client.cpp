// SMTP submission through libcurl (shared/reference/sinks.md section 1.3.2): the message is
// fed by a read callback, the server's replies are read from the debug callback, and
// CURLINFO_RESPONSE_CODE gives the last reply code for the 4xx/5xx split.
#include "creditwatch/http/smtp_client.hpp"

#include "creditwatch/common/text.hpp"
#include "creditwatch/http/curl_client.hpp"

#include "curl_handles.hpp"

#include <algorithm>
#include <cstring>

namespace creditwatch::http {
namespace {

struct Conversation {
  const std::string* message = nullptr;
  std::size_t sent = 0;
  std::string reply;        // lines of the reply being read
  MailReply last;           // the last complete reply
  MailReply refusal;        // the last 4xx/5xx reply: a QUIT's "221 Bye" may follow it
  const std::atomic<bool>* cancel = nullptr;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* c = static_cast<Conversation*>(user);
  const std::size_t n = std::min(size * count, c->message->size() - c->sent);
  std::memcpy(buffer, c->message->data() + c->sent, n);
  c->sent += n;
  return n;
}

// Server reply lines reach the debug callback as CURLINFO_HEADER_IN (only those are read:
// what we send, AUTH included, is never looked at). A reply ends with the line whose code
// is followed by a space ("250 OK"); "250-..." lines continue it.
int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;
  auto* c = static_cast<Conversation*>(user);
  const std::string line = trim(std::string_view(data, size));
  if (line.size() < 3) return 0;
  const std::string text = line.size() > 4 ? line.substr(4) : "";
  c->reply += (c->reply.empty() ? "" : " ") + text;
  if (line.size() == 3 || line[3] == ' ') {
    c->last = MailReply{std::strtol(line.substr(0, 3).c_str(), nullptr, 10), c->reply};
    if (c->last.code >= 400) c->refusal = c->last;
    c->reply.clear();
  }
  return 0;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* c = static_cast<const Conversation*>(user);
  return c->cancel && c->cancel->load() ? 1 : 0;
}

long use_ssl(StartTls mode) {
  switch (mode) {
    case StartTls::required: return CURLUSESSL_ALL;
    case StartTls::opportunistic: return CURLUSESSL_TRY;
    case StartTls::off: return CURLUSESSL_NONE;
  }
  return CURLUSESSL_ALL;
}

std::string bracketed(const std::string& address) {
  return address.starts_with("<") ? address : "<" + address + ">";
}

void set_options(CURL* h, const MailRequest& request, Conversation& c, curl_slist* recipients, char* error_buffer) {
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl(request.starttls));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  if (!request.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, request.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, request.password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, bracketed(request.from).c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.message.size()));
  curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(h, CURLOPT_READDATA, &c);
  curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);  // feeds on_debug; nothing is printed
  curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(h, CURLOPT_DEBUGDATA, &c);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &c);
}

FailureKind classify(CURLcode code) {
  switch (code) {
    case CURLE_USE_SSL_FAILED: return FailureKind::tls;
    case CURLE_LOGIN_DENIED: return FailureKind::protocol;
    default: return classify_curl_code(code);
  }
}

}  // namespace

MailOutcome send_mail(const MailRequest& request, const std::atomic<bool>* cancel) {
  global_init();
  EasyPtr easy(curl_easy_init());
  if (!easy) return MailFailure{FailureKind::internal, "curl_easy_init failed", {}};
  SlistPtr recipients;
  for (const auto& to : request.to) recipients.reset(curl_slist_append(recipients.release(), bracketed(to).c_str()));

  Conversation c;
  c.message = &request.message;
  c.cancel = cancel;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  set_options(easy.get(), request, c, recipients.get(), error_buffer);
  const CURLcode code = curl_easy_perform(easy.get());
  long reply_code = 0;
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &reply_code);
  if (code == CURLE_OK) return c.last;
  if (reply_code >= 400) c.last = reply_code == c.refusal.code ? c.refusal : MailReply{reply_code, ""};

  // The error buffer names the command that failed ("RCPT failed: 550"); the reply text
  // says why. Neither can hold the password: it only travels base64-encoded in AUTH.
  std::string message = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
  if (c.last.code != 0) {
    message += " (server: " + std::to_string(c.last.code) + (c.last.text.empty() ? "" : " " + c.last.text) + ")";
  }
  message = redact(std::move(message), {request.password});
  const bool answered = c.last.code >= 400;
  return MailFailure{answered ? FailureKind::protocol : classify(code), message, answered ? c.last : MailReply{}};
}

}  // namespace creditwatch::http
