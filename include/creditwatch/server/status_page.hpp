#pragma once

#include <string>

namespace creditwatch::server {

// The self-contained status page: HTML, CSS and script inline, no CDN, so it works on
// hosts without internet. It reads /api/v1/accounts and the samples endpoint.
const std::string& status_page_html();

}  // namespace creditwatch::server
