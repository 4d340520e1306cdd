// uk::net::tap: a Linux TAP device (/dev/net/tun, IFF_TAP | IFF_NO_PI) as a
// uk::netif, on the Asio loop (Mirage's netif on unix, mirage-net-unix).
//
//   uk::net::tap tap(io.get_executor(), "tap0");   // or, in uk::run: --interface=tap0
//
// The device is opened by name and created when absent (TUNSETIFF; it is not
// made persistent, so a device it created disappears when it is closed), then
// brought up (IFF_UP), so the kernel side only needs an address. Each read or
// write of the descriptor carries one Ethernet frame without FCS.
//
// Receiving: the descriptor is non-blocking; when it becomes readable the
// device reads frames until the kernel has no more, at most `receive_batch`
// (64) per wake-up, into one receive buffer reused for every frame, and
// passes each to the receiver. Frames longer than mtu() + 18 bytes (Ethernet
// header and one 802.1Q tag) are dropped and counted (rx_dropped).
//
// Sending: transmit() has the frame written in place into a slot of a
// bounded ring (transmit_queue_limit() frames, --tx-queue-limit) and writes
// queued frames to the descriptor at once. When the kernel answers "try
// again" the frames stay queued and are written as soon as the descriptor is
// writable; when the ring is full, transmit() returns false and counts
// tx_dropped_queue_full (smoltcp #949: the limit is exposed so that upper
// layers pace bursts). tx_frames counts frames written to the kernel.
//
// The stack is a host of its own on the link: its MAC (--mac) defaults to a
// random locally administered unicast address, not the kernel side's.
//
// Like the rest of a uk stack, a tap is used from the thread that runs its
// executor. Its buffers are allocated when it is created; sending and
// receiving allocate nothing (Asio recycles its wait operations).
#pragma once

#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <fmt/format.h>

#include "uk/addr.hpp"
#include "uk/asio.hpp"
#include "uk/concepts/netif.hpp"
#include "uk/keys.hpp"
#include "uk/log.hpp"
#include "uk/net/detail/counters.hpp"
#include "uk/net/detail/frame_ring.hpp"
#include "uk/net/detail/mac.hpp"
#include "uk/runtime/device.hpp"

namespace uk::net {

/// --interface=NAME: the TAP device to use.
struct interface_key {
  using value_type = std::string;
  static constexpr std::string_view name = "interface";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc = "The TAP device to use; created when absent.";
  static constexpr std::string_view default_text = "tap0";
};

/// --mac=MAC: the stack's own address on the link.
struct mac_key {
  using value_type = std::optional<mac_address>;
  static constexpr std::string_view name = "mac";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc =
      "The MAC address of the stack on the network interface; without it, a random locally "
      "administered address.";
};

/// --mtu=BYTES: the largest payload of a frame.
struct mtu_key {
  using value_type = std::size_t;
  static constexpr std::string_view name = "mtu";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc =
      "The MTU of the network interface: the largest frame payload, Ethernet header excluded.";
  static constexpr std::string_view default_text = "1500";
  static constexpr long long min = 68;     // RFC 791: every internet module forwards 68 octets
  static constexpr long long max = 65521;  // a frame of mtu + 14 bytes fits in 64 KiB
};

/// --tx-queue-limit=FRAMES: the transmit ring's size.
struct transmit_queue_key {
  using value_type = std::size_t;
  static constexpr std::string_view name = "tx-queue-limit";
  static constexpr std::string_view group = "netif";
  static constexpr std::string_view doc =
      "How many frames the network interface queues for sending before it refuses more.";
  static constexpr std::string_view default_text = "256";
  static constexpr long long min = 1;
  static constexpr long long max = 65536;
};

struct tap_options {
  /// The stack's MAC address; nullopt: a random locally administered one.
  std::optional<mac_address> mac{};
  /// Payload bytes per frame; the kernel side's MTU is set to match.
  std::size_t mtu = 1500;
  /// Frames queued for sending before transmit() refuses more.
  std::size_t transmit_queue_limit = 256;
  /// The most frames read per wake-up before the loop gives other work a turn.
  std::size_t receive_batch = 64;
  /// Bring the interface up (IFF_UP) when it is not.
  bool bring_up = true;
  /// The clone device (tests point it elsewhere to see the error messages).
  std::string clone_device = "/dev/net/tun";
};

class tap {
 public:
  using keys = key_list<interface_key, mac_key, mtu_key, transmit_queue_key>;
  static constexpr std::string_view device_name = "tap";

  /// As uk::run creates it, from --interface, --mac, --mtu and --tx-queue-limit.
  template <class Keys>
  tap(device_context& context, const Keys& keys)
      : tap(context.executor, keys.template get<interface_key>(),
            tap_options{.mac = keys.template get<mac_key>(),
                        .mtu = keys.template get<mtu_key>(),
                        .transmit_queue_limit = keys.template get<transmit_queue_key>()}) {}

  /// Opens (creating it when absent) and brings up the TAP device `name`.
  /// Throws uk::device_error saying what went wrong and what to do.
  tap(asio::any_io_executor executor, std::string name, const tap_options& options = {})
      : state_(std::make_shared<state>(executor, std::move(name), options)) {
    take(open_tap(state_->name, options));
    log::info(log::source::netif, "tap {}: attached, MAC {}, MTU {}", state_->name, state_->mac, state_->mtu);
    start_reading(state_);
  }

  /// Uses `fd`, already open, that carries one Ethernet frame per read and
  /// write (a TAP descriptor opened by a privileged helper, or a datagram
  /// socket in tests); the device owns it from now on. `name` is for logs.
  static tap adopt(asio::any_io_executor executor, int fd, std::string name, const tap_options& options = {}) {
    std::shared_ptr<state> s;
    try {
      s = std::make_shared<state>(executor, std::move(name), options);
    } catch (...) {
      ::close(fd);
      throw;
    }
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
      const int error = errno;
      ::close(fd);
      throw device_error(fmt::format("{}: cannot make the descriptor non-blocking: {}", s->name, std::strerror(error)));
    }
    return tap(std::move(s), fd);
  }

  tap(tap&&) noexcept = default;
  tap& operator=(tap&&) = delete;
  tap(const tap&) = delete;
  tap& operator=(const tap&) = delete;

  /// Closes the descriptor: a TAP device that this process created disappears.
  ~tap() {
    if (!state_) return;
    state_->closed = true;
    boost::system::error_code ignored;
    state_->descriptor.close(ignored);  // pending waits end with operation_aborted
  }

  // ---- uk::netif ---------------------------------------------------------------
  mac_address mac() const noexcept { return state_->mac; }
  std::size_t mtu() const noexcept { return state_->mtu; }
  std::size_t transmit_queue_limit() const noexcept { return state_->ring.capacity(); }
  const device_counters& counters() const noexcept { return state_->counters; }
  void set_receiver(frame_handler h) noexcept { state_->receiver = h; }

  /// Queues a frame of at most `size` bytes that `fill` writes in place, and
  /// writes what the kernel takes now. False (and counted) when the ring is
  /// full or size exceeds mtu() + 14. A frame `fill` leaves empty is not sent.
  bool transmit(std::size_t size, frame_filler fill) {
    state& s = *state_;
    if (size > s.ring.slot_size()) {
      ++s.counters.tx_dropped_oversize;
      log::debug(log::source::netif, "tap {}: refused a frame of {} bytes (MTU {})", s.name, size, s.mtu);
      return false;
    }
    if (s.ring.full()) {
      ++s.counters.tx_dropped_queue_full;
      return false;
    }
    const std::size_t written = fill(s.ring.tail_slot().first(size));
    const std::size_t length = std::min(written, size);
    if (length == 0) return true;
    s.ring.push(length);
    if (!s.waiting_to_write && !s.closed) write_queued(state_);
    return true;
  }

  // ---- the device --------------------------------------------------------------
  /// The interface name (as the kernel named it).
  const std::string& name() const noexcept { return state_->name; }
  /// Frames queued, not yet taken by the kernel.
  std::size_t queued() const noexcept { return state_->ring.size(); }
  int native_handle() noexcept { return state_->descriptor.native_handle(); }

 private:
  static constexpr std::size_t max_receive_header = 18;  // Ethernet header and one 802.1Q tag

  struct state {
    state(asio::any_io_executor executor, std::string interface_name, const tap_options& options)
        : descriptor(executor),
          name(std::move(interface_name)),
          mac(checked_mac(options.mac)),
          mtu(options.mtu),
          batch(std::max<std::size_t>(options.receive_batch, 1)),
          // One byte more than the longest acceptable frame: a read that fills it was too long.
          receive_size(options.mtu + max_receive_header + 1),
          receive_buffer(std::make_unique_for_overwrite<std::byte[]>(receive_size)),
          ring(std::max<std::size_t>(options.transmit_queue_limit, 1), options.mtu + ethernet_header_length) {}

    asio::posix::stream_descriptor descriptor;
    std::string name;
    mac_address mac;
    std::size_t mtu;
    std::size_t batch;
    std::size_t receive_size;
    std::unique_ptr<std::byte[]> receive_buffer;
    detail::frame_ring<> ring;
    frame_handler receiver;
    device_counters counters;
    bool waiting_to_write = false;
    bool closed = false;
    bool reported_write_error = false;
  };

  static mac_address checked_mac(const std::optional<mac_address>& mac) {
    if (!mac) return detail::random_local_mac();
    // A station's own address is an individual one (IEEE 802-2014 8.2: I/G bit clear).
    if (mac->is_multicast()) throw device_error(fmt::format("--mac={} is a group address, not a station's", *mac));
    return *mac;
  }

  tap(std::shared_ptr<state> s, int fd) : state_(std::move(s)) {
    take(fd);
    start_reading(state_);
  }

  /// Hands the descriptor to Asio (which registers it with the reactor).
  void take(int fd) {
    boost::system::error_code ec;
    state_->descriptor.assign(fd, ec);
    if (ec) {
      ::close(fd);
      throw device_error(fmt::format("{}: cannot watch the descriptor: {}", state_->name, ec.message()));
    }
  }

  // ---- opening -----------------------------------------------------------------
  static bool valid_interface_name(std::string_view name) noexcept {
    // The kernel's dev_valid_name(): not "." or "..", no '/', ':' or white space.
    if (name == "." || name == "..") return false;
    return std::none_of(name.begin(), name.end(), [](char c) {
      return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    });
  }

  /// Opens the clone device and attaches to (or creates) the TAP device; returns the descriptor.
  static int open_tap(std::string& name, const tap_options& options) {
    if (name.empty()) throw device_error("the interface name is empty (--interface=NAME)");
    if (name.size() >= IFNAMSIZ) {
      throw device_error(fmt::format("the interface name \"{}\" is too long: at most {} characters", name,
                                     IFNAMSIZ - 1));
    }
    if (!valid_interface_name(name))
      throw device_error(fmt::format("\"{}\" is not a valid interface name (no '/', ':' or spaces)", name));

    const int fd = ::open(options.clone_device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      std::string_view hint;
      if (error == EACCES || error == EPERM) hint = " (run as root or give CAP_NET_ADMIN)";
      else if (error == ENOENT) hint = " (load the tun module: modprobe tun)";
      else if (error == ENODEV || error == ENXIO) hint = " (the kernel has no TUN/TAP support: modprobe tun)";
      throw device_error(
          fmt::format("cannot open {}: {}{}", options.clone_device, std::strerror(error), hint));
    }

    ifreq request{};
    std::memcpy(request.ifr_name, name.data(), name.size());
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (::ioctl(fd, TUNSETIFF, &request) < 0) {
      const int error = errno;
      ::close(fd);
      std::string_view hint;
      if (error == EPERM || error == EACCES) hint = " (run as root or give CAP_NET_ADMIN)";
      else if (error == EBUSY) hint = " (it is in use: another program, or another tap object, has it open)";
      else if (error == EINVAL) hint = " (it exists and is not a TAP device)";
      throw device_error(fmt::format("cannot create or attach to the TAP device {}: {}{}", name,
                                     std::strerror(error), hint));
    }
    name.assign(request.ifr_name, ::strnlen(request.ifr_name, IFNAMSIZ));
    configure_link(name, options);
    return fd;
  }

  /// Sets the kernel side's MTU to ours and brings the link up; failures are
  /// warnings (the device may be usable: someone else may configure it).
  static void configure_link(const std::string& name, const tap_options& options) {
    const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
      log::warning(log::source::netif, "tap {}: cannot configure the link: {}", name, std::strerror(errno));
      return;
    }
    ifreq request{};
    std::memcpy(request.ifr_name, name.data(), name.size());
    if (::ioctl(sock, SIOCGIFMTU, &request) == 0 && static_cast<std::size_t>(request.ifr_mtu) != options.mtu) {
      request.ifr_mtu = static_cast<int>(options.mtu);
      if (::ioctl(sock, SIOCSIFMTU, &request) < 0)
        log::warning(log::source::netif, "tap {}: cannot set the MTU to {}: {}", name, options.mtu,
                     std::strerror(errno));
    }
    if (options.bring_up) {
      std::memset(&request.ifr_ifru, 0, sizeof request.ifr_ifru);
      if (::ioctl(sock, SIOCGIFFLAGS, &request) < 0) {
        log::warning(log::source::netif, "tap {}: cannot read the link flags: {}", name, std::strerror(errno));
      } else if ((request.ifr_flags & IFF_UP) == 0) {
        request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
        if (::ioctl(sock, SIOCSIFFLAGS, &request) < 0)
          log::warning(log::source::netif, "tap {}: cannot bring the link up: {} (ip link set {} up)", name,
                       std::strerror(errno), name);
      }
    }
    ::close(sock);
  }

  // ---- receiving ---------------------------------------------------------------
  static void start_reading(const std::shared_ptr<state>& s) {
    // The handler holds the state: a wait completing after the device is
    // destroyed finds `closed` set and stops.
    s->descriptor.async_wait(asio::posix::descriptor_base::wait_read, [s](const boost::system::error_code& ec) {
      if (ec || s->closed) return;
      if (read_frames(*s)) start_reading(s);
    });
  }

  /// Reads frames until the kernel has none, at most a batch; false when reading must stop.
  static bool read_frames(state& s) {
    ++s.counters.rx_wakeups;
    const int fd = s.descriptor.native_handle();
    for (std::size_t i = 0; i < s.batch; ++i) {
      const ssize_t n = ::read(fd, s.receive_buffer.get(), s.receive_size);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        ++s.counters.rx_errors;
        log::error(log::source::netif, "tap {}: read failed: {}; receiving stopped", s.name, std::strerror(errno));
        return false;
      }
      if (n == 0) {
        log::info(log::source::netif, "tap {}: end of file; receiving stopped", s.name);
        return false;
      }
      const auto length = static_cast<std::size_t>(n);
      if (length >= s.receive_size) {  // longer than mtu + 18: cut by the read
        ++s.counters.rx_dropped;
        log::debug(log::source::netif, "tap {}: dropped a frame longer than {} bytes", s.name, s.receive_size - 1);
        continue;
      }
      if (!s.receiver) {
        ++s.counters.rx_dropped;
        continue;
      }
      ++s.counters.rx_frames;
      s.counters.rx_bytes += length;
      s.receiver(frame{s.receive_buffer.get(), length});
      if (s.closed) return false;  // the receiver destroyed the device
    }
    return true;  // a full batch: wait again, letting other handlers run first
  }

  // ---- sending -----------------------------------------------------------------
  /// Writes queued frames until the ring is empty or the kernel says "try again".
  static void write_queued(const std::shared_ptr<state>& shared) {
    state& s = *shared;
    const int fd = s.descriptor.native_handle();
    while (!s.ring.empty()) {
      const std::span<std::byte> f = s.ring.front();
      const ssize_t n = ::write(fd, f.data(), f.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          s.waiting_to_write = true;
          s.descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                                  [shared](const boost::system::error_code& ec) {
                                    shared->waiting_to_write = false;
                                    if (ec || shared->closed) return;
                                    write_queued(shared);
                                  });
          return;
        }
        ++s.counters.tx_errors;
        if (!s.reported_write_error) {
          s.reported_write_error = true;
          log::error(log::source::netif, "tap {}: write failed: {} (further failures are only counted)", s.name,
                     std::strerror(errno));
        }
      } else {
        ++s.counters.tx_frames;
        s.counters.tx_bytes += f.size();
      }
      s.ring.pop();
    }
  }

  std::shared_ptr<state> state_;
};

static_assert(netif<tap>);

}  // namespace uk::net
