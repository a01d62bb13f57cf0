#pragma once
// An amount with its currency or unit, as every message and table writes it. Units that are
// not money are first-class (SPEC "More providers and non-money units"): "12.50 USD",
// "5958 searches", "12 %" for a quota window's percent left.
#include <string>

namespace creditwatch {

// `amount` as already formatted; an empty unit leaves it bare.
std::string amount_with_unit(const std::string& amount, const std::string& unit);

}  // namespace creditwatch
