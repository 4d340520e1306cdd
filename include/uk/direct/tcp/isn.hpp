// Initial sequence numbers (RFC 6528 section 3):
//
//     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// where M is a timer that ticks every 4 microseconds (RFC 9293 3.4.1) and F a
// keyed PRF, here SipHash-2-4 (siphash.hpp): RFC 6528 section 3 asks for a
// function "not computable from the outside", and names MD5 only as an
// example; SipHash is a PRF built for short inputs. The secret comes from the
// OS random source (RFC 6528 section 3: "SHOULD be ... a random number").
//
// Successive incarnations of one 4-tuple get increasing ISNs (M grows), which
// is what lets TIME-WAIT reuse work (RFC 9293 3.6.1); different tuples get
// unrelated ones, so a blind attacker cannot guess them (RFC 6528 section 1).
#pragma once

#include <cstdint>

#include "uk/addr.hpp"
#include "uk/direct/tcp/siphash.hpp"
#include "uk/time.hpp"

namespace uk::direct::tcp {

class isn_generator {
 public:
  explicit constexpr isn_generator(siphash_key secret) noexcept : secret_(secret) {}

  /// The ISN of a connection from `local` to `remote` opened at `now`.
  constexpr std::uint32_t operator()(ipv4_endpoint local, ipv4_endpoint remote, instant now) const noexcept {
    return clock_ticks(now) + offset(local, remote);
  }

  /// M of RFC 6528: a 32-bit counter of 4-microsecond ticks (RFC 9293 3.4.1).
  static constexpr std::uint32_t clock_ticks(instant now) noexcept {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.time_since_epoch().count()) / 4000);
  }

  /// F of RFC 6528: the keyed hash of the 4-tuple.
  constexpr std::uint32_t offset(ipv4_endpoint local, ipv4_endpoint remote) const noexcept {
    hash_input<12> in;
    in.u32(local.address.value).u16(local.port).u32(remote.address.value).u16(remote.port);
    return static_cast<std::uint32_t>(siphash24(secret_, in.bytes()));
  }

 private:
  siphash_key secret_;
};

}  // namespace uk::direct::tcp
