#include "creditwatch/common/amount_text.hpp"

#include <algorithm>
#include <cctype>

namespace creditwatch {
namespace {

// ISO 4217 codes are three capital letters; anything else is a count of something.
bool is_money(const std::string& unit) {
  return unit.size() == 3 && std::all_of(unit.begin(), unit.end(), [](unsigned char c) { return std::isupper(c); });
}

// "40.00" -> "40", "12.50" -> "12.5": a count of searches has no cents to show.
std::string without_trailing_zeros(std::string amount) {
  const auto point = amount.find('.');
  if (point == std::string::npos || amount.find_first_not_of("0123456789", point + 1) != std::string::npos) {
    return amount;
  }
  while (amount.back() == '0') amount.pop_back();
  if (amount.back() == '.') amount.pop_back();
  return amount;
}

}  // namespace

std::string amount_with_unit(const std::string& amount, const std::string& unit) {
  if (unit.empty()) return amount;
  if (is_money(unit)) return amount + " " + unit;
  // "12 percent left" reads worse than "12 % left"; the stored unit stays "percent".
  if (unit == "percent") return without_trailing_zeros(amount) + " %";
  return without_trailing_zeros(amount) + " " + unit;
}

}  // namespace creditwatch
