// The SACK scoreboard of a sender (RFC 6675 3 and 4): which octets above
// SND.UNA the peer reported holding (RFC 2018 3, SACK blocks), as at most
// `max_ranges` sorted, disjoint ranges in a fixed array (8 bytes each).
//
// It answers the questions of RFC 6675 4: IsLost (from DupThresh SACKed
// segments or DupThresh discontiguous ranges above an octet), the octets of
// the "pipe" (SetPipe), and the holes NextSeg() picks from. Update() is
// `update`, fed with each ACK's blocks after they were validated against
// SND.UNA and SND.MAX.
//
// RFC 2018 8: SACK information is advisory (the receiver may renege): the
// scoreboard never frees send-buffer data, it only says what need not be
// retransmitted yet. Forgetting a range is therefore always safe (the data
// is sent again at worst), which is what happens when the bound is hit.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "uk/direct/tcp/sequence.hpp"
#include "uk/wire/tcp_options.hpp"

namespace uk::direct::tcp {

class scoreboard {
 public:
  /// The SACKed ranges held at once (holes are at most one more).
  static constexpr std::size_t max_ranges = 8;
  /// RFC 6675 2: DupThresh, "the number of duplicate acknowledgments required to trigger a retransmission".
  static constexpr unsigned dup_thresh = 3;

  struct range {
    seq begin, end;  ///< [begin, end)
  };

  /// What one ACK's blocks did to the scoreboard.
  struct update_result {
    unsigned valid = 0;      ///< blocks that lie within [SND.UNA, SND.MAX)
    unsigned invalid = 0;    ///< empty, reversed or beyond SND.MAX (ignored)
    unsigned old = 0;        ///< wholly below SND.UNA: D-SACK (RFC 2883) or stale (ignored)
    unsigned bound_hits = 0; ///< a range forgotten because max_ranges were held
    bool new_data = false;   ///< some octet not SACKed before is now (RFC 6675 2: a "duplicate" ACK)
  };

  /// RFC 6675 4, Update(): marks the octets of each block SACKed. A block
  /// counts only when SND.UNA < right edge <= SND.MAX and left < right; a
  /// left edge below SND.UNA is cut to it (RFC 2018 3 allows no such block,
  /// but the part above SND.UNA is still news).
  update_result update(std::span<const wire::tcp::sack_block> blocks, seq snd_una, seq snd_max) noexcept {
    update_result r;
    for (const wire::tcp::sack_block& b : blocks) {
      seq left{b.left_edge}, right{b.right_edge};
      if (!(left < right) || right > snd_max) {
        ++r.invalid;
        continue;
      }
      if (right <= snd_una) {
        ++r.old;
        continue;
      }
      left = seq_max(left, snd_una);
      ++r.valid;
      if (sacked_between(left, right) < static_cast<std::size_t>(right - left)) r.new_data = true;
      if (!insert(left, right)) ++r.bound_hits;
    }
    return r;
  }

  /// Forgets everything below the cumulative acknowledgment (RFC 6675 4: "HighACK").
  void acknowledge(seq snd_una) noexcept {
    std::size_t drop = 0;
    while (drop < count_ && ranges_[drop].end <= snd_una) ++drop;
    erase_front(drop);
    if (count_ > 0 && ranges_[0].begin < snd_una) ranges_[0].begin = snd_una;
  }

  void clear() noexcept { count_ = 0; }
  bool empty() const noexcept { return count_ == 0; }
  std::size_t size() const noexcept { return count_; }
  std::span<const range> ranges() const noexcept { return {ranges_.data(), count_}; }

  /// RFC 6675 2: "HighSACK": the octet just after the highest SACKed one
  /// (`fallback` when nothing is SACKed).
  seq high_sacked(seq fallback) const noexcept { return count_ == 0 ? fallback : ranges_[count_ - 1].end; }

  bool is_sacked(seq s) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      if (ranges_[i].begin <= s && s < ranges_[i].end) return true;
    }
    return false;
  }

  /// SACKed octets in [from, to).
  std::size_t sacked_between(seq from, seq to) const noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < count_; ++i) {
      const seq b = seq_max(ranges_[i].begin, from), e = seq_min(ranges_[i].end, to);
      if (b < e) n += static_cast<std::size_t>(e - b);
    }
    return n;
  }

  /// RFC 6675 4, IsLost(SeqNum), as a boundary: every unSACKed octet before
  /// the returned one is lost, none at or after it. IsLost holds when "DupThresh
  /// discontiguous SACKed sequences exist above SeqNum" or "more than
  /// (DupThresh - 1) * SMSS bytes with sequence numbers greater than SeqNum
  /// have been SACKed"; both shrink as SeqNum grows, so a boundary exists.
  /// Returns `floor` when nothing is lost.
  seq lost_boundary(std::size_t smss, seq floor) const noexcept {
    seq boundary = floor;
    // Discontiguous ranges: octets below the DupThresh-th highest range's start.
    if (count_ >= dup_thresh) boundary = seq_max(boundary, ranges_[count_ - dup_thresh].begin);
    // Bytes: the octet s for which the SACKed octets above s first exceed (DupThresh-1)*SMSS.
    const std::size_t need = (dup_thresh - 1) * smss + 1;
    std::size_t above = 0;
    for (std::size_t i = count_; i-- > 0;) {
      const std::size_t len = static_cast<std::size_t>(ranges_[i].end - ranges_[i].begin);
      if (above + len >= need) {
        // Octets > s in this range: end - 1 - s, so s is lost while
        // above + end - 1 - s >= need: up to s = end - 1 - (need - above).
        boundary = seq_max(boundary, ranges_[i].end - static_cast<std::uint32_t>(need - above));
        break;
      }
      above += len;
    }
    return boundary;
  }

  /// The first unSACKed stretch [begin, end) at or after `from` and before
  /// `limit` (begin == end when none).
  range next_hole(seq from, seq limit) const noexcept {
    seq at = from;
    for (std::size_t i = 0; i < count_ && at < limit; ++i) {
      if (ranges_[i].end <= at) continue;
      if (ranges_[i].begin <= at) {
        at = ranges_[i].end;
        continue;
      }
      return {at, seq_min(ranges_[i].begin, limit)};
    }
    return at < limit ? range{at, limit} : range{limit, limit};
  }

 private:
  // Merges [begin, end) into the sorted list; false when a range had to be
  // forgotten to make room (the highest one other than the new one: what
  // lies closest to SND.UNA matters most to recovery, RFC 6675 4's NextSeg).
  bool insert(seq begin, seq end) noexcept {
    std::size_t first = 0;
    while (first < count_ && ranges_[first].end < begin) ++first;
    std::size_t last = first;  // [first, last) touch or overlap the new range
    while (last < count_ && ranges_[last].begin <= end) ++last;
    if (first < last) {
      const range merged{seq_min(begin, ranges_[first].begin), seq_max(end, ranges_[last - 1].end)};
      ranges_[first] = merged;
      std::move(ranges_.begin() + static_cast<std::ptrdiff_t>(last), ranges_.begin() + static_cast<std::ptrdiff_t>(count_),
                ranges_.begin() + static_cast<std::ptrdiff_t>(first + 1));
      count_ = static_cast<std::uint8_t>(count_ - (last - first - 1));
      return true;
    }
    bool forgot = false;
    if (count_ == max_ranges) {
      forgot = true;
      if (first == count_) {
        // The new range is the highest: forget the highest held one instead.
        --first;
      }
      --count_;  // drops ranges_[count_], the highest (or, when first moved, the one it replaces)
    }
    std::move_backward(ranges_.begin() + static_cast<std::ptrdiff_t>(first), ranges_.begin() + static_cast<std::ptrdiff_t>(count_),
                       ranges_.begin() + static_cast<std::ptrdiff_t>(count_ + 1));
    ranges_[first] = {begin, end};
    ++count_;
    return !forgot;
  }

  void erase_front(std::size_t n) noexcept {
    if (n == 0) return;
    std::move(ranges_.begin() + static_cast<std::ptrdiff_t>(n), ranges_.begin() + static_cast<std::ptrdiff_t>(count_), ranges_.begin());
    count_ = static_cast<std::uint8_t>(count_ - n);
  }

  std::array<range, max_ranges> ranges_{};
  std::uint8_t count_ = 0;
};

}  // namespace uk::direct::tcp
