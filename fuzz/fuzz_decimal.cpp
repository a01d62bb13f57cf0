// Decimal::parse on arbitrary text: never crashes, and what it accepts prints back to a text
// that parses to the same amount.
#include "creditwatch/common/decimal.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = creditwatch::Decimal::parse(text);
  if (!parsed) return 0;
  const auto again = creditwatch::Decimal::parse(parsed->to_string());
  if (!again || again->micros() != parsed->micros()) std::abort();
  return 0;
}
