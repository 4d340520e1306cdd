// uk::direct::stack<Netif, Config>: the direct stack, composed like
// mirage-tcpip's functor chain, and driven by the Asio loop.
//
//   ethernet<Netif>
//   arp<ethernet<Netif>>
//   ipv4<ethernet<Netif>, arp<...>, Config>
//   icmpv4<ipv4<...>>        udp<ipv4<...>>        tcp::layer<ipv4<...>>
//
// The layers below are sans-IO: they read time through a clock_ref and say
// when they next need polling. This class is the glue of layer 4: it owns
// one Asio timer armed for the stack's earliest deadline, and re-polls after
// every batch of received frames and every send.
#pragma once

#include <algorithm>
#include <chrono>
#include <string_view>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "uk/concepts/netif.hpp"
#include "uk/concepts/stack.hpp"
#include "uk/direct/arp.hpp"
#include "uk/direct/ethernet.hpp"
#include "uk/direct/icmpv4.hpp"
#include "uk/direct/ipv4.hpp"
#include "uk/direct/tcp.hpp"
#include "uk/direct/tcp/keys.hpp"
#include "uk/direct/udp.hpp"
#include "uk/direct/udp_service.hpp"
#include "uk/log.hpp"
#include "uk/runtime/clock.hpp"
#include "uk/runtime/device.hpp"
#include "uk/runtime/random.hpp"

namespace uk::direct {

/// An IPv4 configuration that needs the stack's layers (DHCP): the stack
/// plugs it in when built, polls its timers and detaches it when it stops.
///   c.attach(udp, arp, mac, clock, seed)   binds what it needs, starts
///   c.poll(now)                              its timers (see uk/time.hpp)
///   c.detach()                               stops (a DHCP client releases its lease)
template <class C, class Udp, class Arp>
concept attachable_ipv4_config =
    ipv4_config<C> && requires(C& c, Udp& udp, Arp& arp, mac_address mac, clock_ref clock, std::uint64_t seed,
                               instant now) {
      c.attach(udp, arp, mac, clock, seed);
      { c.poll(now) } -> std::same_as<instant>;
      c.detach();
    };

namespace detail {
/// Passes every frame of `Netif` up unchanged, then tells the stack that
/// something arrived, so it re-polls once after the batch.
template <netif Netif>
class receive_hook {
 public:
  receive_hook(Netif& inner, delegate<void()> after_receive) : inner_(inner), after_(after_receive) {
    inner_.set_receiver(frame_handler::bind<&receive_hook::on_frame>(*this));
  }
  receive_hook(const receive_hook&) = delete;
  receive_hook& operator=(const receive_hook&) = delete;
  ~receive_hook() { inner_.set_receiver({}); }

  mac_address mac() const { return inner_.mac(); }
  std::size_t mtu() const { return inner_.mtu(); }
  std::size_t transmit_queue_limit() const { return inner_.transmit_queue_limit(); }
  bool transmit(std::size_t size, frame_filler fill) { return inner_.transmit(size, fill); }
  void set_receiver(frame_handler h) { upper_ = h; }
  decltype(auto) counters() const { return inner_.counters(); }

 private:
  void on_frame(frame f) {
    if (upper_) upper_(f);
    after_();
  }
  Netif& inner_;
  delegate<void()> after_;
  frame_handler upper_;
};
}  // namespace detail

template <netif Netif, ipv4_config Config>
class stack {
 public:
  using netif_type = detail::receive_hook<Netif>;
  using ethernet_type = direct::ethernet<netif_type>;
  using arp_type = direct::arp<ethernet_type>;
  using ipv4_type = direct::ipv4<ethernet_type, arp_type, Config>;
  using icmpv4_type = direct::icmpv4<ipv4_type>;
  using udp_type = direct::udp<ipv4_type>;
  using udp_service_type = udp_service<udp_type>;
  /// The configuration comes from the network (DHCP): attached, polled, awaited.
  static constexpr bool dynamic_config = attachable_ipv4_config<Config, udp_type, arp_type>;
  using tcp_type = tcp::layer<ipv4_type>;
  using tcp_service_type = tcp::service<tcp_type>;

  using keys = key_list<tcp::msl_key, tcp::max_connections_key, tcp::buffer_key, tcp::congestion_key, tcp::sack_key>;
  using dependencies = device_list<Netif, Config, monotonic_clock, os_random>;
  static constexpr std::string_view device_name = "direct stack";

  /// `clock` is read once per event; `seed` randomizes ephemeral ports, and
  /// TCP's secrets derive from it (tests: reproducible; uk::run passes OS randomness).
  stack(asio::any_io_executor executor, Netif& netif, Config& config, clock_ref clock, std::uint32_t seed,
        tcp::layer_options tcp_options = {})
      : stack(std::move(executor), netif, config, clock, seed, secrets_from_seed(seed), tcp_options) {}

  /// As above, with TCP's secrets (RFC 6528, RFC 4987, RFC 6056) given.
  stack(asio::any_io_executor executor, Netif& netif, Config& config, clock_ref clock, std::uint32_t seed,
        const tcp::layer_secrets& tcp_secrets, tcp::layer_options tcp_options)
      : clock_(clock),
        hook_(netif, delegate<void()>::bind<&stack::schedule_poll>(*this)),
        ethernet_(hook_),
        arp_(ethernet_, clock_ref::bind<&stack::now>(*this)),
        ipv4_(ethernet_, arp_, config, clock_ref::bind<&stack::now>(*this)),
        icmpv4_(ipv4_, clock_ref::bind<&stack::now>(*this)),
        udp_(ipv4_, {}, seed),
        udp_service_(executor, udp_, delegate<void()>::bind<&stack::schedule_poll>(*this)),
        config_(config),
        tcp_(ipv4_, clock_ref::bind<&stack::now>(*this), tcp_secrets, tcp_options),
        tcp_service_(executor, tcp_, clock_ref::bind<&stack::now>(*this),
                     delegate<void()>::bind<&stack::schedule_poll>(*this)),
        timer_(executor),
        lease_wait_(executor),
        executor_(std::move(executor)) {
    udp_.set_unreachable_handler(udp_unreachable_handler::bind<&icmpv4_type::port_unreachable>(icmpv4_));
    if constexpr (dynamic_config)
      config_.attach(udp_, arp_, hook_.mac(), clock_ref::bind<&stack::now>(*this),
                     std::uint64_t{seed} * 0x9e3779b97f4a7c15ull + 1);
    schedule_poll();
  }

  template <class Keys>
  stack(device_context& context, const Keys& keys, Netif& netif, Config& config, monotonic_clock& clock,
        os_random& random)
      : stack(context.executor, netif, config, clock_ref::bind<&monotonic_clock::now>(clock),
              static_cast<std::uint32_t>(random()), tcp::layer_secrets::from(random), tcp::options_from(keys)) {}

  stack(const stack&) = delete;
  stack& operator=(const stack&) = delete;
  ~stack() {
    if constexpr (requires { config_.log_counters(); }) config_.log_counters();
    if constexpr (dynamic_config) config_.detach();  // DHCPRELEASE while the layers exist
    closing_ = true;
    log_counters();
  }

  /// With a configuration that comes from the network (DHCP): waits until it
  /// gives an address, as a Mirage stack over DHCP connects once leased.
  asio::awaitable<void> connect()
    requires dynamic_config
  {
    if (!config_.address()) log::info(log::source::dhcp, "waiting for a lease");
    while (!config_.address()) {
      lease_wait_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await lease_wait_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  /// The IPv4 configuration (a DHCP one offers lease()).
  Config& config() noexcept { return config_; }
  const Config& config() const noexcept { return config_; }

  // ---- uk::stack, uk::direct_stack ---------------------------------------------
  udp_service_type& udp() noexcept { return udp_service_; }
  tcp_service_type& tcp() noexcept { return tcp_service_; }
  /// The TCP packet layer below tcp() (counters, connection table).
  tcp_type& tcp_layer() noexcept { return tcp_; }
  ipv4_type& ipv4() noexcept { return ipv4_; }
  icmpv4_type& icmpv4() noexcept { return icmpv4_; }
  arp_type& arp() noexcept { return arp_; }
  ethernet_type& ethernet() noexcept { return ethernet_; }
  /// The UDP packet layer below udp() (counters, raw bindings).
  udp_type& udp_layer() noexcept { return udp_; }

  /// Runs the layers' timers now and re-arms for the next deadline.
  void poll() {
    poll_posted_ = false;
    const instant t = now();
    instant next = std::min({arp_.poll(t), ipv4_.poll(t), tcp_.poll(t)});
    if constexpr (dynamic_config) {
      next = std::min(next, config_.poll(t));
      if (config_.address()) lease_wait_.cancel();
    }
    if (next == never) {
      timer_.cancel();
      armed_for_ = never;
      return;
    }
    if (next == armed_for_) return;
    armed_for_ = next;
    timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::max(next - t, duration::zero())));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || closing_) return;
      armed_for_ = never;
      poll();
    });
  }

  /// Logs every layer's counters at debug (the stack also does so when it stops).
  void log_counters() const {
    using log::source;
    if (log::enabled(source::ethernet, log::level::debug)) {
      const auto& c = ethernet_.counters();
      log::debug(source::ethernet,
                 "counters: rx_frames={} tx_frames={} dropped: not_for_us={} multicast={} vlan={} truncated={} "
                 "unsupported={} bad_source={} unknown_ethertype={} tx_refused={} tx_oversize={}",
                 c.rx_frames, c.tx_frames, c.rx_dropped_not_for_us, c.rx_dropped_multicast, c.rx_dropped_vlan,
                 c.rx_dropped_truncated, c.rx_dropped_unsupported, c.rx_dropped_bad_source,
                 c.rx_dropped_unknown_ethertype, c.tx_dropped_refused, c.tx_dropped_oversize);
    }
    if (log::enabled(source::arp, log::level::debug)) {
      const auto& c = arp_.counters();
      log::debug(source::arp,
                 "counters: requests_in={} requests_out={} gratuitous_out={} hits={} misses={} evictions={} "
                 "failures={} conflicts={} pending_queued={} pending_dropped={} dropped: truncated={} "
                 "unsupported={} bad_sender={} not_for_us={}",
                 c.requests_in, c.requests_out, c.gratuitous_out, c.cache_hits, c.cache_misses, c.evictions,
                 c.resolution_failures, c.conflicts, c.pending_queued,
                 c.pending_dropped_address_full + c.pending_dropped_total_full + c.pending_dropped_failed +
                     c.pending_dropped_evicted,
                 c.rx_dropped_truncated, c.rx_dropped_unsupported, c.rx_dropped_bad_sender_mac + c.rx_dropped_bad_sender_ip,
                 c.rx_ignored_not_for_us);
    }
    if (log::enabled(source::ipv4, log::level::debug)) {
      const auto& c = ipv4_.counters();
      log::debug(source::ipv4,
                 "counters: rx_datagrams={} tx_datagrams={} rx_fragments={} tx_fragments={} reassembled={} "
                 "dropped: bad_header={} bad_checksum={} bad_source={} not_for_us={} no_handler={} "
                 "reassembly={} (overlap={} timed_out={} evicted={} no_memory={} too_big={}) no_route={} arp={}",
                 c.rx_datagrams, c.tx_datagrams, c.rx_fragments, c.tx_fragments, c.rx_reassembled,
                 c.rx_dropped_bad_header, c.rx_dropped_bad_checksum, c.rx_dropped_bad_source, c.rx_dropped_not_for_us,
                 c.rx_dropped_no_handler, c.rx_dropped_reassembly, c.reassembly.dropped_overlap,
                 c.reassembly.timed_out, c.reassembly.evicted, c.reassembly.dropped_no_memory,
                 c.reassembly.dropped_too_big, c.tx_dropped_no_route, c.tx_dropped_arp);
    }
    if (log::enabled(source::icmp, log::level::debug)) {
      const auto& c = icmpv4_.counters();
      log::debug(source::icmp,
                 "counters: rx={} echo_requests={} echo_replies_out={} port_unreachable_out={} rate_limited={} "
                 "suppressed={} dropped: truncated={} bad_checksum={}",
                 c.rx_messages, c.rx_echo_requests, c.tx_echo_replies, c.tx_port_unreachable, c.errors_rate_limited,
                 c.errors_suppressed, c.rx_truncated, c.rx_bad_checksum);
    }
    if (log::enabled(source::udp, log::level::debug)) {
      const auto& c = udp_.counters();
      log::debug(source::udp,
                 "counters: rx_datagrams={} tx_datagrams={} dropped: rx_malformed={} rx_bad_checksum={} "
                 "rx_no_listener={} tx_dropped={} tx_too_large={}",
                 c.rx_datagrams, c.tx_datagrams, c.rx_malformed, c.rx_bad_checksum, c.rx_no_listener, c.tx_dropped,
                 c.tx_too_large);
    }
    if (log::enabled(source::tcp, log::level::debug)) {
      const auto& c = tcp_.counters();
      log::debug(source::tcp,
                 "counters: rx_segments={} tx_segments={} connections={} opened={} freed={} resets_out={} "
                 "dropped: malformed={} bad_checksum={} bad_address={} no_connection={} listen={} tx={} "
                 "bounds: cap={} syn_queue_full={} accept_queue_full={} ports_exhausted={} listeners_full={} "
                 "challenge_acks_limited={} cookies: sent={} accepted={} rejected={} time_wait_reused={}",
                 c.rx_segments, c.tx_segments, tcp_.connection_count(), c.connections_opened, c.connections_freed,
                 c.tx_resets, c.rx_malformed, c.rx_bad_checksum, c.rx_bad_address, c.rx_no_connection,
                 c.rx_dropped_listen, c.tx_dropped, c.connection_cap_hit, c.syn_queue_full, c.accept_queue_full,
                 c.ports_exhausted, c.listeners_full, c.challenge_acks_limited, c.syn_cookies_sent,
                 c.syn_cookies_accepted, c.syn_cookies_rejected, c.time_wait_reused);
      const auto& t = tcp_.connection_totals();
      log::debug(source::tcp,
                 "connections: rto={} fast_retransmits={} sack_recoveries={} sack_retransmissions={} "
                 "limited_transmits={} sack_blocks: in={} out={} invalid={} out_of_order={} reassembly_full={} "
                 "duplicate_acks={} unacceptable={} paws={} zero_window_probes={}",
                 t.retransmission_timeouts, t.fast_retransmissions, t.sack_recoveries, t.sack_retransmissions,
                 t.limited_transmits, t.sack_blocks_received, t.sack_blocks_sent, t.sack_blocks_invalid,
                 t.rx_out_of_order, t.rx_reassembly_full, t.rx_duplicate_acks, t.rx_unacceptable,
                 t.rx_paws_rejected, t.persist_probes);
    }
  }

 private:
  instant now() { return clock_(); }

  /// TCP secrets spread from a 32-bit seed (splitmix64), for the constructor without OS randomness.
  static tcp::layer_secrets secrets_from_seed(std::uint32_t seed) {
    struct splitmix {
      std::uint64_t x;
      std::uint64_t operator()() {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
      }
    } random{seed};
    return tcp::layer_secrets::from(random);
  }

  /// Coalesces the polls of one batch of frames or sends into one.
  void schedule_poll() {
    if (poll_posted_ || closing_) return;
    poll_posted_ = true;
    asio::post(executor_, [this] {
      if (!closing_) poll();
    });
  }

  clock_ref clock_;
  netif_type hook_;
  ethernet_type ethernet_;
  arp_type arp_;
  ipv4_type ipv4_;
  icmpv4_type icmpv4_;
  udp_type udp_;
  udp_service_type udp_service_;
  Config& config_;
  tcp_type tcp_;
  tcp_service_type tcp_service_;
  asio::steady_timer timer_;
  asio::steady_timer lease_wait_;  // connect() waits on it for the first lease
  asio::any_io_executor executor_;
  instant armed_for_ = never;
  bool poll_posted_ = false;
  bool closing_ = false;
};

}  // namespace uk::direct
