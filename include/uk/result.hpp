// uk::result<T, E>: a value or an error, for code that must not throw
// (packet parsers, protocol cores). A small subset of C++23 std::expected,
// which g++ 12 does not offer in C++20 mode.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace uk {

/// Wraps an error value so that result<T, E> can be built from it unambiguously.
template <class E>
struct failure {
  E error;
};
template <class E>
failure(E) -> failure<E>;

template <class T, class E>
class result {
 public:
  using value_type = T;
  using error_type = E;

  constexpr result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : state_(std::in_place_index<0>, std::move(value)) {}
  constexpr result(failure<E> f) noexcept : state_(std::in_place_index<1>, std::move(f.error)) {}

  constexpr bool has_value() const noexcept { return state_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  constexpr T& value() & noexcept { assert(has_value()); return *std::get_if<0>(&state_); }
  constexpr const T& value() const& noexcept { assert(has_value()); return *std::get_if<0>(&state_); }
  constexpr T&& value() && noexcept { assert(has_value()); return std::move(*std::get_if<0>(&state_)); }
  constexpr T& operator*() & noexcept { return value(); }
  constexpr const T& operator*() const& noexcept { return value(); }
  constexpr T* operator->() noexcept { return &value(); }
  constexpr const T* operator->() const noexcept { return &value(); }

  constexpr E error() const noexcept { assert(!has_value()); return *std::get_if<1>(&state_); }

 private:
  std::variant<T, E> state_;
};

}  // namespace uk
