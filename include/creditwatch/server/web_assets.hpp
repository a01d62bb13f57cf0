#pragma once

#include <optional>
#include <string_view>

namespace creditwatch::server {

// A file of the status UI, embedded from web/ at build time (cmake/EmbedWebAssets.cmake):
// pages, styles, scripts and the vendored chart library. Nothing is read from disk or a CDN
// at run time, so the UI works on hosts without internet.
struct WebAsset {
  std::string_view body;
  std::string_view content_type;  // from the extension: "text/html; charset=utf-8", ...
};

// The file at `path` relative to web/ ("index.html", "vendor/uPlot.min.css"), if embedded.
std::optional<WebAsset> web_asset(std::string_view path);

}  // namespace creditwatch::server
