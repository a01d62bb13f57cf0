#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace creditwatch {

// An exact amount of money with six decimal places, stored as an integer count of
// millionths. Thresholds are compared on this type so "2.00" never becomes 1.9999999.
class Decimal {
public:
  static constexpr std::int64_t k_scale = 1'000'000;

  constexpr Decimal() = default;
  static constexpr Decimal from_micros(std::int64_t micros) { return Decimal(micros); }
  static Decimal from_double(double value);
  // Parses "12", "-3.5", "0.000001", "1e3", " 42.10 ". Digits past the sixth decimal are
  // rounded half away from zero. Returns nullopt for anything that is not a number.
  static std::optional<Decimal> parse(std::string_view text);

  constexpr std::int64_t micros() const { return m_micros; }
  double to_double() const { return static_cast<double>(m_micros) / k_scale; }
  // Shortest exact form with at least two decimals: "12.50", "0.000001", "-3.00".
  std::string to_string() const;

  constexpr auto operator<=>(const Decimal&) const = default;
  constexpr Decimal operator+(Decimal other) const { return Decimal(m_micros + other.m_micros); }
  constexpr Decimal operator-(Decimal other) const { return Decimal(m_micros - other.m_micros); }
  constexpr Decimal operator-() const { return Decimal(-m_micros); }
  Decimal& operator+=(Decimal other) { m_micros += other.m_micros; return *this; }
  Decimal& operator-=(Decimal other) { m_micros -= other.m_micros; return *this; }
  Decimal scaled(Decimal factor) const;

private:
  constexpr explicit Decimal(std::int64_t micros) : m_micros(micros) {}
  std::int64_t m_micros = 0;
};

}  // namespace creditwatch
