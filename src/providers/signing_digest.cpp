// The digests the cloud signers are built from, over OpenSSL's libcrypto.
#include "creditwatch/providers/cloud_signing.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

namespace creditwatch::providers::signing {
namespace {

std::string hmac_with(const EVP_MD* digest, std::string_view key, std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int length = 0;
  if (HMAC(digest, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
           message.size(), out.data(), &length) == nullptr) {
    throw std::runtime_error("HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(out.data()), length);
}

}  // namespace

std::string hmac_sha1(std::string_view key, std::string_view message) { return hmac_with(EVP_sha1(), key, message); }

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return hmac_with(EVP_sha256(), key, message);
}

std::string sha256(std::string_view message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int length = 0;
  if (EVP_Digest(message.data(), message.size(), out.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return std::string(reinterpret_cast<const char*>(out.data()), length);
}

std::string hex(std::string_view bytes) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += k_digits[c >> 4];
    out += k_digits[c & 15];
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

std::string random_nonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw std::runtime_error("no random bytes");
  return hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      out += escaped;
    }
  }
  return out;
}

std::string sorted_query(const Params& params) {
  Params encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) encoded.emplace_back(uri_encode(name), uri_encode(value));
  std::stable_sort(encoded.begin(), encoded.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [name, value] : encoded) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

std::string authority_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) url.remove_prefix(scheme_end + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  return std::string(url);
}

std::string path_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  const auto start = url.find('/', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  if (start == std::string_view::npos) return "/";
  return std::string(url.substr(start, url.find_first_of("?#", start) - start));
}

}  // namespace creditwatch::providers::signing
