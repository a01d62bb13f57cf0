#include "creditwatch/common/decimal.hpp"

#include <cmath>
#include <cstdlib>

namespace creditwatch {
namespace {

// Amounts hold at most 18 digits of millionths (under 10^12 whole units), so every amount that
// parses prints back to a text that parses again.
constexpr std::int64_t k_micros_limit = 1'000'000'000'000'000'000;

}  // namespace

Decimal Decimal::from_double(double value) {
  return Decimal(static_cast<std::int64_t>(std::llround(value * k_scale)));
}

std::optional<Decimal> Decimal::parse(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;

  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  // Digits with an optional fraction and exponent; the exponent shifts the decimal point.
  std::string digits;
  int point_shift = 0;
  bool seen_point = false;
  bool seen_digit = false;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
      seen_digit = true;
      if (seen_point) --point_shift;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return std::nullopt;
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return std::nullopt;
    std::string exponent(text.substr(i + 1));
    if (exponent.empty() || exponent.size() > 4) return std::nullopt;
    char* end = nullptr;
    long e = std::strtol(exponent.c_str(), &end, 10);
    if (*end != '\0') return std::nullopt;
    point_shift += static_cast<int>(e);
  }
  // Value = digits * 10^point_shift; we want millionths, so shift by 6 more.
  int shift = point_shift + 6;
  std::size_t first_nonzero = digits.find_first_not_of('0');
  if (first_nonzero == std::string::npos) return Decimal(0);
  digits = digits.substr(first_nonzero);
  std::int64_t micros = 0;
  if (shift >= 0) {
    if (digits.size() + static_cast<std::size_t>(shift) > 18) return std::nullopt;
    for (char c : digits) micros = micros * 10 + (c - '0');
    for (int k = 0; k < shift; ++k) micros *= 10;
  } else {
    std::size_t keep = digits.size() > static_cast<std::size_t>(-shift) ? digits.size() - static_cast<std::size_t>(-shift) : 0;
    if (keep > 18) return std::nullopt;
    for (std::size_t k = 0; k < keep; ++k) micros = micros * 10 + (digits[k] - '0');
    // Round half away from zero on the first dropped digit.
    std::size_t dropped_index = keep;
    int leading_zeros_dropped = -shift - static_cast<int>(digits.size());
    if (leading_zeros_dropped <= 0 && dropped_index < digits.size() && digits[dropped_index] >= '5') ++micros;
  }
  // Rounding can carry 18 nines of millionths up to the limit itself (999999999999.9999995).
  if (micros >= k_micros_limit) return std::nullopt;
  return Decimal(negative ? -micros : micros);
}

std::string Decimal::to_string() const {
  std::int64_t magnitude = m_micros < 0 ? -m_micros : m_micros;
  std::string whole = std::to_string(magnitude / k_scale);
  std::string fraction = std::to_string(magnitude % k_scale);
  fraction.insert(0, 6 - fraction.size(), '0');
  while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
  return (m_micros < 0 ? "-" : "") + whole + "." + fraction;
}

Decimal Decimal::scaled(Decimal factor) const {
  // 128-bit intermediate keeps cents * 0.01 and similar scale factors exact.
  __extension__ using Wide = __int128;
  Wide product = static_cast<Wide>(m_micros) * factor.m_micros;
  Wide half = product >= 0 ? k_scale / 2 : -(k_scale / 2);
  return Decimal(static_cast<std::int64_t>((product + half) / k_scale));
}

}  // namespace creditwatch
