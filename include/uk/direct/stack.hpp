// uk::direct::stack<Netif, Config>: the direct stack, composed like
// mirage-tcpip's functor chain, and driven by the Asio loop.
//
//   ethernet<Netif>
//   arp<ethernet<Netif>>
//   ipv4<ethernet<Netif>, arp<...>, Config>
//   icmpv4<ipv4<...>>        udp<ipv4<...>>  (TCP joins with its issue)
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
#include <boost/asio/steady_timer.hpp>

#include "uk/concepts/netif.hpp"
#include "uk/concepts/stack.hpp"
#include "uk/direct/arp.hpp"
#include "uk/direct/ethernet.hpp"
#include "uk/direct/icmpv4.hpp"
#include "uk/direct/ipv4.hpp"
#include "uk/direct/udp.hpp"
#include "uk/direct/udp_service.hpp"
#include "uk/log.hpp"
#include "uk/runtime/clock.hpp"
#include "uk/runtime/device.hpp"
#include "uk/runtime/random.hpp"

namespace uk::direct {

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

  using keys = key_list<>;
  using dependencies = device_list<Netif, Config, monotonic_clock, os_random>;
  static constexpr std::string_view device_name = "direct stack";

  /// `clock` is read once per event; `seed` randomizes ephemeral ports.
  stack(asio::any_io_executor executor, Netif& netif, Config& config, clock_ref clock, std::uint32_t seed)
      : clock_(clock),
        hook_(netif, delegate<void()>::bind<&stack::schedule_poll>(*this)),
        ethernet_(hook_),
        arp_(ethernet_, clock_ref::bind<&stack::now>(*this)),
        ipv4_(ethernet_, arp_, config, clock_ref::bind<&stack::now>(*this)),
        icmpv4_(ipv4_, clock_ref::bind<&stack::now>(*this)),
        udp_(ipv4_, {}, seed),
        udp_service_(executor, udp_, delegate<void()>::bind<&stack::schedule_poll>(*this)),
        timer_(executor),
        executor_(std::move(executor)) {
    udp_.set_unreachable_handler(udp_unreachable_handler::bind<&icmpv4_type::port_unreachable>(icmpv4_));
    schedule_poll();
  }

  template <class Keys>
  stack(device_context& context, const Keys&, Netif& netif, Config& config, monotonic_clock& clock, os_random& random)
      : stack(context.executor, netif, config, clock_ref::bind<&monotonic_clock::now>(clock),
              static_cast<std::uint32_t>(random())) {}

  stack(const stack&) = delete;
  stack& operator=(const stack&) = delete;
  ~stack() { closing_ = true; }

  // ---- uk::udp_stack, uk::direct_stack -----------------------------------------
  udp_service_type& udp() noexcept { return udp_service_; }
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
    const instant next = std::min(arp_.poll(t), ipv4_.poll(t));
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

 private:
  instant now() { return clock_(); }

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
  asio::steady_timer timer_;
  asio::any_io_executor executor_;
  instant armed_for_ = never;
  bool poll_posted_ = false;
  bool closing_ = false;
};

}  // namespace uk::direct
