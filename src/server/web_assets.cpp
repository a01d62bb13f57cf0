#include "creditwatch/server/web_assets.hpp"

#include "web_asset_table.hpp"

namespace creditwatch::server {
namespace {

std::string_view content_type_of(std::string_view path) {
  const auto dot = path.rfind('.');
  const auto extension = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (extension == "html") return "text/html; charset=utf-8";
  if (extension == "css") return "text/css; charset=utf-8";
  if (extension == "js") return "text/javascript; charset=utf-8";
  if (extension == "svg") return "image/svg+xml";
  if (extension == "png") return "image/png";
  if (extension == "json") return "application/json";
  return "text/plain; charset=utf-8";  // LICENSE and other notes
}

}  // namespace

std::optional<WebAsset> web_asset(std::string_view path) {
  for (std::size_t i = 0; i < k_web_asset_count; ++i) {
    const auto& file = k_web_assets[i];
    if (path == file.path) {
      return WebAsset{std::string_view(reinterpret_cast<const char*>(file.data), file.size), content_type_of(path)};
    }
  }
  return std::nullopt;
}

}  // namespace creditwatch::server
