#pragma once

#include <string>
#include <string_view>

namespace creditwatch::server {

// The sign-in form (web/sign-in.html, embedded), with `{{message}}` and `{{next}}` for the
// server to fill in, HTML-escaped.
const std::string& sign_in_page_template();

// Its Content-Security-Policy: its own stylesheet, no script, posting only to this origin,
// never framed (a framed form could be clicked through by another site).
std::string_view sign_in_page_policy();

// Whether `path` is one of the form's own files, served to anyone like the form itself.
bool is_sign_in_asset(std::string_view path);

}  // namespace creditwatch::server
