// parse_duration on arbitrary text: never crashes, and what it accepts formats back to a
// text that parses to the same duration.
#include "creditwatch/common/duration.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = creditwatch::parse_duration(text);
  if (!parsed) return 0;
  if (parsed->count() < 0) std::abort();
  const auto again = creditwatch::parse_duration(creditwatch::format_duration(*parsed));
  if (!again || *again != *parsed) std::abort();
  return 0;
}
