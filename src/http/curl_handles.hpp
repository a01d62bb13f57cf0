#pragma once

// Owners for libcurl handles and the one mapping of CURLcode to FailureKind, shared by
// the HTTP client and the SMTP sender. Private to the http layer.
#include "creditwatch/http/http_client.hpp"

#include <curl/curl.h>

#include <memory>

namespace creditwatch::http {

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;

FailureKind classify_curl_code(CURLcode code);

}  // namespace creditwatch::http
