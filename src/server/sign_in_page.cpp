#include "creditwatch/server/sign_in_page.hpp"

#include "creditwatch/server/web_assets.hpp"

#include <stdexcept>

namespace creditwatch::server {

const std::string& sign_in_page_template() {
  static const std::string page = [] {
    const auto asset = web_asset("sign-in.html");
    if (!asset) throw std::logic_error("web/sign-in.html is not embedded");
    return std::string(asset->body);
  }();
  return page;
}

std::string_view sign_in_page_policy() {
  return "default-src 'none'; style-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'; "
         "base-uri 'none'";
}

bool is_sign_in_asset(std::string_view path) { return path == "/assets/sign-in.css"; }

}  // namespace creditwatch::server
