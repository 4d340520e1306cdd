// Cuts a qrexec vchan's byte stream into messages (qubes-protocols.md 2.2:
// an 8-byte msg_header, then `len` bytes of body; no other framing).
//
// Sans-IO: the owner appends the bytes it read and takes whole messages
// out. A message whose header announces a body longer than the bound is a
// fatal error of the stream (the peer broke the protocol: every receiver
// upstream rejects such a `len` too); nothing is buffered beyond one partial
// message plus the last bytes appended.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "uk/wire/qubes_rexec.hpp"

namespace uk::qubes {

/// The qrexec wire format, as the agent's headers name it.
namespace rexec_wire = wire::qubes_rexec;

/// One whole message: its header and a view of its body, valid until the
/// reader's next append() or next().
struct rexec_message {
  wire::qubes_rexec::header header;
  std::span<const std::byte> body;
};

class rexec_reader {
 public:
  explicit rexec_reader(std::size_t max_body) noexcept : max_body_(max_body) {}

  /// The longest body accepted from now on.
  void set_max_body(std::size_t max_body) noexcept { max_body_ = max_body; }
  std::size_t max_body() const noexcept { return max_body_; }

  /// Adds bytes read from the stream.
  void append(std::span<const std::byte> bytes) {
    compact();
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  }

  /// What next() found.
  enum class status { message, need_more, too_long };

  /// Takes the next whole message, if one is buffered. After `too_long` the
  /// stream cannot be resynchronised: stop reading it.
  status next(rexec_message& out) {
    compact();
    const auto pending = std::span<const std::byte>(buffer_).subspan(consumed_);
    const auto h = wire::qubes_rexec::parse_header(pending);
    if (!h) return status::need_more;
    if (h->length > max_body_) return status::too_long;
    if (pending.size() - wire::qubes_rexec::header_length < h->length) return status::need_more;
    out = {*h, pending.subspan(wire::qubes_rexec::header_length, h->length)};
    consumed_ += wire::qubes_rexec::header_length + h->length;
    return status::message;
  }

  /// Bytes held: a partial message, and messages not taken yet.
  std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }

 private:
  // Drops the bytes of messages already taken (their views die here).
  void compact() {
    if (consumed_ == 0) return;
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }

  std::size_t max_body_;
  std::vector<std::byte> buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace uk::qubes
