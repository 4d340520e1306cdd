// Counting replacements of the global operator new and delete, for tests
// that prove a hot path allocates nothing. It DEFINES the replacements:
// include it from exactly one source file of a test executable (other files
// of it define UK_ALLOCATION_COUNTER_NO_REPLACEMENTS first, for the counters alone).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <malloc.h>
#include <new>

namespace uk::test {

namespace detail {
inline thread_local bool counting = false;
inline std::atomic<std::size_t> allocations{0};
/// Heap bytes held through operator new now (malloc_usable_size: what each block really takes).
inline std::atomic<std::size_t> live_bytes{0};

inline void* counted_allocation(std::size_t size) {
  if (counting) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    live_bytes.fetch_add(malloc_usable_size(p), std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}
inline void counted_free(void* p) noexcept {
  if (p) live_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
  std::free(p);
}
}  // namespace detail

/// Heap bytes held through operator new now, by every thread.
inline std::size_t heap_bytes() noexcept { return detail::live_bytes.load(); }

/// Counts the allocations of this thread while it lives.
struct allocation_counter {
  std::size_t start;
  allocation_counter() : start(detail::allocations.load()) { detail::counting = true; }
  ~allocation_counter() { detail::counting = false; }
  std::size_t count() const { return detail::allocations.load() - start; }
};

}  // namespace uk::test

#ifndef UK_ALLOCATION_COUNTER_NO_REPLACEMENTS
void* operator new(std::size_t size) { return uk::test::detail::counted_allocation(size); }
void* operator new[](std::size_t size) { return uk::test::detail::counted_allocation(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return uk::test::detail::counted_allocation(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { uk::test::detail::counted_free(p); }
void operator delete[](void* p) noexcept { uk::test::detail::counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { uk::test::detail::counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { uk::test::detail::counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { uk::test::detail::counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { uk::test::detail::counted_free(p); }
#endif  // UK_ALLOCATION_COUNTER_NO_REPLACEMENTS
