#pragma once

#include <string>

namespace creditwatch::storage {

// Bytes as bytea's text form, \x and two hex digits a byte, and back: the ledger snapshots
// PostgresStore stores and DatabaseCopy copies into it.
inline std::string bytea_hex(const std::string& bytes) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out += k_digits[b >> 4];
    out += k_digits[b & 0xf];
  }
  return out;
}

inline std::string from_bytea_hex(const std::string& hex) {
  const auto digit = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  if (hex.rfind("\\x", 0) != 0) return out;
  out.reserve((hex.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1]));
  }
  return out;
}

}  // namespace creditwatch::storage
