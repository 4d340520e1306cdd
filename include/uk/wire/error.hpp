// The errors a wire parser reports. Every parser in uk/wire returns
// uk::result<View, wire::error>: a validated view or one of these.
#pragma once

#include <string_view>

#include "uk/result.hpp"

namespace uk::wire {

enum class error {
  truncated,          ///< the buffer ends before the header or a length field says it should
  bad_length,         ///< a length field is impossible (smaller than the minimum the format allows);
                      ///< a length that runs past the buffer is `truncated`
  bad_version,        ///< a version field other than the one this format defines
  bad_checksum,       ///< the checksum does not verify
  bad_option,         ///< an option is malformed (bad length, truncated, overlong)
  unsupported,        ///< well-formed, but a variant this parser does not handle (e.g. ARP for another protocol)
  malformed,          ///< any other violation of the format's rules
};

constexpr std::string_view to_string(error e) noexcept {
  switch (e) {
    case error::truncated: return "truncated";
    case error::bad_length: return "bad length";
    case error::bad_version: return "bad version";
    case error::bad_checksum: return "bad checksum";
    case error::bad_option: return "bad option";
    case error::unsupported: return "unsupported";
    case error::malformed: return "malformed";
  }
  return "unknown";
}

template <class View>
using parse_result = uk::result<View, error>;

}  // namespace uk::wire
