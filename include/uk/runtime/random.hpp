// The hosted random device: the kernel's getrandom(2) (Mirage_crypto_rng on unix).
#pragma once

#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>
#include <system_error>

#include <boost/hana/tuple.hpp>

#include "uk/runtime/device.hpp"

namespace uk {

/// Random bytes from the operating system. Unpredictable, so fit for keys
/// (RFC 6528 ISN secret) and identifiers a peer must not guess.
class os_random {
 public:
  using keys = key_list<>;
  using result_type = std::uint64_t;
  static constexpr std::string_view device_name = "random";

  os_random() = default;
  template <class Keys>
  os_random(device_context&, const Keys&) {}

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    result_type v;
    fill(std::as_writable_bytes(std::span{&v, 1}));
    return v;
  }

  /// Fills `bytes`; throws std::system_error if the kernel refuses.
  void fill(std::span<std::byte> bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::getrandom(bytes.data(), bytes.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "getrandom");
      }
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
  }
};

}  // namespace uk
