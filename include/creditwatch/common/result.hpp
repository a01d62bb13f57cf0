#pragma once

#include <string>
#include <utility>
#include <variant>

namespace creditwatch {

// A value or an error, for code paths where failure is expected (network, parsing).
// Exceptions are kept for programming errors and for start-up, caught once in app::run.
template <typename T, typename E>
class Result {
public:
  Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : m_state(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return m_state.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() { return std::get<0>(m_state); }
  const T& value() const { return std::get<0>(m_state); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

  E& error() { return std::get<1>(m_state); }
  const E& error() const { return std::get<1>(m_state); }

private:
  std::variant<T, E> m_state;
};

}  // namespace creditwatch
