// The seed's network hello world: an application over a netif alone. It
// writes "omg hi network" in a broadcast Ethernet frame and logs "said hello!".
#include <cstring>
#include <string_view>

#include <uk/stack.hpp>

namespace asio = boost::asio;

/// IEEE 802 "Local Experimental Ethertype 1" (IEEE Std 802-2014 9.2.4).
inline constexpr std::uint16_t experimental_ethertype = 0x88b5;

struct hello_network {
  template <uk::netif Netif>
  static asio::awaitable<int> start(Netif& netif) {
    constexpr std::string_view message = "omg hi network";
    auto fill = [&](std::span<std::byte> frame) -> std::size_t {
      const auto dst = uk::mac_address::broadcast().octets;
      const auto src = netif.mac().octets;
      std::memcpy(frame.data(), dst.data(), 6);
      std::memcpy(frame.data() + 6, src.data(), 6);
      frame[12] = std::byte{experimental_ethertype >> 8};
      frame[13] = std::byte{experimental_ethertype & 0xff};
      std::memcpy(frame.data() + 14, message.data(), message.size());
      return 14 + message.size();
    };
    if (!netif.transmit(14 + message.size(), uk::frame_filler(fill))) {
      uk::log::error(uk::log::source::app, "the interface refused the frame");
      co_return 1;
    }
    uk::log::info(uk::log::source::app, "said hello!");
    co_return 0;
  }
};

int main(int argc, char** argv) { return uk::run<hello_network>(argc, argv); }
