// uk::delegate<R(Args...)>: a non-owning reference to a callable, two words,
// one indirect call. Layers register their packet handlers with the layer
// below through delegates: no allocation, no virtual dispatch per layer
// class, and the layer below never owns the layer above.
#pragma once

#include <cassert>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace uk {

template <class Signature>
class delegate;

template <class R, class... Args>
class delegate<R(Args...)> {
 public:
  /// An empty delegate: calling it is a precondition violation; test with `bool`.
  constexpr delegate() noexcept = default;

  /// Refers to `callable`, which must outlive the delegate.
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, delegate> && std::is_invocable_r_v<R, F&, Args...>)
  constexpr delegate(F& callable) noexcept  // NOLINT: implicit by design
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(callable)))),
        call_([](void* o, Args... args) -> R {
          return std::invoke(*static_cast<F*>(o), std::forward<Args>(args)...);
        }) {}

  /// Calls member function `Member` of `object`, which must outlive the delegate.
  template <auto Member, class T>
  static constexpr delegate bind(T& object) noexcept {
    delegate d;
    d.object_ = std::addressof(object);
    d.call_ = [](void* o, Args... args) -> R {
      return std::invoke(Member, *static_cast<T*>(o), std::forward<Args>(args)...);
    };
    return d;
  }

  constexpr explicit operator bool() const noexcept { return call_ != nullptr; }

  R operator()(Args... args) const {
    assert(call_ != nullptr);
    return call_(object_, std::forward<Args>(args)...);
  }

 private:
  void* object_ = nullptr;
  R (*call_)(void*, Args...) = nullptr;
};

}  // namespace uk
