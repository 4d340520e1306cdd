// uk::net::pcap_writer<Netif>: a netif that records every frame passing
// through another netif in a pcap file (smoltcp's PcapWriter).
//
//   uk::net::pcap_writer<uk::net::tap> traced(tap, "run.pcap");   // or --pcap=run.pcap
//   ethernet<uk::net::pcap_writer<uk::net::tap>> eth(traced);
//
// The file is the classic libpcap format (draft-ietf-opsawg-pcap) that
// tcpdump, tshark and Wireshark read: a 24-byte global header (magic 0xa1b2c3d4 in the writer's byte order,
// version 2.4, snaplen 65535, link type 1 = Ethernet) then one 16-byte record
// header (seconds, microseconds, captured length, original length) before
// each frame. Received and transmitted frames are both recorded, in the order
// they pass; a transmitted frame is recorded when the device below accepts it.
//
// Ownership: the writer refers to the netif it wraps (it does not own it),
// as a device refers to the devices it depends on in uk::run; the wrapped
// netif must outlive the writer. The writer installs itself as the wrapped
// netif's receiver when it is created and removes itself when it is
// destroyed, so it cannot be copied or moved.
//
// Timestamps come from a uk::clock_ref when one is given (virtual time in
// tests: instants since boot, shown as 1970 dates), else from the system
// clock. A write error is logged once; the capture then stops and the frames
// it misses are counted in pcap_counters::write_errors. It is never fatal.
// Without a path the writer passes frames through and records nothing.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <fmt/format.h>

#include "uk/concepts/netif.hpp"
#include "uk/log.hpp"
#include "uk/time.hpp"

namespace uk::net {

/// --pcap=FILE: record the frames of the network interface.
struct pcap_key {
  using value_type = std::optional<std::filesystem::path>;
  static constexpr std::string_view name = "pcap";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc =
      "Write every frame received and sent on the network interface to FILE, a pcap file "
      "that tcpdump, tshark and Wireshark open.";
};

struct pcap_options {
  /// Where timestamps come from; empty: the system clock (wall time).
  clock_ref clock{};
  /// Flush the file after every frame, so that it is complete whenever it is read.
  bool flush_every_frame = true;
  /// The most bytes of a frame recorded (longer frames are cut, their length kept).
  std::uint32_t snaplen = 65535;
};

struct pcap_counters {
  std::uint64_t frames_written = 0;
  std::uint64_t bytes_written = 0;  ///< frame bytes, headers excluded
  std::uint64_t write_errors = 0;   ///< frames not recorded because writing failed
};

namespace pcap {
inline constexpr std::uint32_t magic_microseconds = 0xa1b2c3d4;
inline constexpr std::uint16_t version_major = 2;
inline constexpr std::uint16_t version_minor = 4;
inline constexpr std::uint32_t linktype_ethernet = 1;  // LINKTYPE_ETHERNET
inline constexpr std::size_t file_header_length = 24;
inline constexpr std::size_t record_header_length = 16;
}  // namespace pcap

template <netif Netif>
class pcap_writer {
 public:
  using keys = boost::hana::tuple<boost::hana::type<pcap_key>>;             // uk::key_list<pcap_key>
  using dependencies = boost::hana::tuple<boost::hana::type<Netif>>;        // uk::device_list<Netif>
  static constexpr std::string_view device_name = "pcap";

  /// Records the frames of `inner` to `path` (created or truncated); with no
  /// path, records nothing. Throws std::runtime_error when the file cannot be created.
  explicit pcap_writer(Netif& inner, std::optional<std::filesystem::path> path = std::nullopt,
                       pcap_options options = {})
      : inner_(inner), options_(options) {
    if (path) open(*path);
    inner_.set_receiver(frame_handler::template bind<&pcap_writer::on_receive>(*this));
  }

  /// As uk::run creates it: the path from --pcap, timestamps from the system clock.
  template <class Context, class Keys>
    requires requires(const Keys& k) { k.template get<pcap_key>(); }
  pcap_writer(Context&, const Keys& keys, Netif& inner) : pcap_writer(inner, keys.template get<pcap_key>()) {}

  pcap_writer(const pcap_writer&) = delete;
  pcap_writer& operator=(const pcap_writer&) = delete;

  ~pcap_writer() {
    inner_.set_receiver({});
    if (file_ != nullptr) std::fclose(file_);
  }

  // ---- uk::netif ---------------------------------------------------------------
  mac_address mac() const { return inner_.mac(); }
  std::size_t mtu() const { return inner_.mtu(); }
  std::size_t transmit_queue_limit() const { return inner_.transmit_queue_limit(); }
  /// The wrapped netif's counters: the writer drops nothing.
  decltype(auto) counters() const { return inner_.counters(); }
  void set_receiver(frame_handler h) noexcept { receiver_ = h; }

  bool transmit(std::size_t size, frame_filler fill) {
    if (file_ == nullptr && !failed_) return inner_.transmit(size, fill);  // not recording
    // The frame is written once, into the device's slot, and recorded from there.
    auto record_after_fill = [this, fill](std::span<std::byte> slot) -> std::size_t {
      const std::size_t length = fill(slot);
      record(slot.first(std::min(length, slot.size())));
      return length;
    };
    return inner_.transmit(size, frame_filler(record_after_fill));
  }

  // ---- the capture -------------------------------------------------------------
  /// Whether frames are being recorded (a path was given and no write failed).
  bool capturing() const noexcept { return file_ != nullptr; }
  const std::filesystem::path& path() const noexcept { return path_; }
  const pcap_counters& pcap_stats() const noexcept { return stats_; }
  /// Writes what is buffered to the file (after every frame by default).
  void flush() {
    if (file_ != nullptr && std::fflush(file_) != 0) fail(errno);
  }

  Netif& inner() noexcept { return inner_; }
  const Netif& inner() const noexcept { return inner_; }

 private:
  void open(const std::filesystem::path& path) {
    path_ = path;
    file_ = std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) {
      throw std::runtime_error(fmt::format("cannot create the pcap file {}: {}", path.string(), std::strerror(errno)));
    }
    std::array<std::byte, pcap::file_header_length> header{};
    put(header, 0, pcap::magic_microseconds);
    put(header, 4, pcap::version_major);
    put(header, 6, pcap::version_minor);
    put(header, 8, std::int32_t{0});    // thiszone: timestamps are UTC
    put(header, 12, std::uint32_t{0});  // sigfigs
    put(header, 16, options_.snaplen);
    put(header, 20, pcap::linktype_ethernet);
    if (std::fwrite(header.data(), 1, header.size(), file_) != header.size() || std::fflush(file_) != 0) {
      const int error = errno;
      std::fclose(file_);
      file_ = nullptr;
      throw std::runtime_error(fmt::format("cannot write the pcap file {}: {}", path.string(), std::strerror(error)));
    }
    log::debug(log::source::netif, "pcap: recording frames to {}", path.string());
  }

  void on_receive(frame f) {
    record(f);
    if (receiver_) receiver_(f);
  }

  void record(std::span<const std::byte> f) {
    if (file_ == nullptr) {
      if (failed_) ++stats_.write_errors;
      return;
    }
    const std::chrono::nanoseconds t =
        options_.clock ? options_.clock().time_since_epoch()
                       : std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch());
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(t);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - seconds);
    const std::size_t captured = std::min<std::size_t>(f.size(), options_.snaplen);
    std::array<std::byte, pcap::record_header_length> header{};
    put(header, 0, static_cast<std::uint32_t>(seconds.count()));
    put(header, 4, static_cast<std::uint32_t>(micros.count()));
    put(header, 8, static_cast<std::uint32_t>(captured));
    put(header, 12, static_cast<std::uint32_t>(f.size()));
    if (std::fwrite(header.data(), 1, header.size(), file_) != header.size() ||
        (captured > 0 && std::fwrite(f.data(), 1, captured, file_) != captured) ||
        (options_.flush_every_frame && std::fflush(file_) != 0)) {
      fail(errno);
      return;
    }
    ++stats_.frames_written;
    stats_.bytes_written += captured;
  }

  /// A write failed: logged once, the capture stops, and this frame and every later one is counted.
  void fail(int error) {
    ++stats_.write_errors;
    failed_ = true;
    log::error(log::source::netif, "pcap: cannot write to {}: {}; recording stopped, missed frames are counted",
               path_.string(), std::strerror(error));
    std::fclose(file_);
    file_ = nullptr;
  }

  template <class T, std::size_t N>
  static void put(std::array<std::byte, N>& out, std::size_t at, T value) noexcept {
    std::memcpy(out.data() + at, &value, sizeof value);  // the writer's byte order: readers follow the magic
  }

  Netif& inner_;
  pcap_options options_;
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  bool failed_ = false;
  frame_handler receiver_;
  pcap_counters stats_;
};

}  // namespace uk::net
