// fuzz_providers builds one provider of every kind from fuzz/provider_accounts.hpp and aborts
// when one cannot be built. The fuzz run comes last in CI, so a provider added without its
// minimal account there used to fail CI after an hour; this catches it in the normal suite.
#include "creditwatch/common/clock.hpp"
#include "../../fuzz/provider_accounts.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

class FixedClock final : public creditwatch::Clock {
public:
  creditwatch::TimePoint now() const override { return creditwatch::from_unix_ms(1'777'680'000'000); }
};

}  // namespace

TEST_CASE("the fuzz target's minimal account of every provider kind is valid") {
  FixedClock clock;
  std::vector<creditwatch::config::ConfigError> errors;
  auto providers = creditwatch::fuzz::build_every_provider(clock, errors);
  std::string messages;
  for (const auto& e : errors) messages += e.to_string() + "\n";
  INFO(messages);
  CHECK(errors.empty());
  CHECK(providers.size() + 1 == creditwatch::providers::provider_table().size());
  for (const auto& provider : providers) CHECK(provider != nullptr);
}
