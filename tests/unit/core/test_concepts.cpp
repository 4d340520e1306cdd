// Each module type (concept) is satisfied by a test double written from its
// documentation, and by the real implementations this version has; and a
// type missing one requirement does not satisfy it.
#include <catch2/catch.hpp>

#include <uk/concepts.hpp>
#include <uk/runtime/clock.hpp>
#include <uk/runtime/lifecycle.hpp>
#include <uk/runtime/random.hpp>
#include <uk/socket/stack.hpp>

#include <functional>
#include <map>
#include <vector>

namespace {

namespace asio = boost::asio;

struct netif_double {
  uk::mac_address mac() const { return {{2, 0, 0, 0, 0, 1}}; }
  std::size_t mtu() const { return 1500; }
  std::size_t transmit_queue_limit() const { return 4; }
  bool transmit(std::size_t size, uk::frame_filler fill) {
    if (sent.size() >= transmit_queue_limit()) {
      ++counters_.tx_dropped_queue_full;
      return false;
    }
    std::vector<std::byte> frame(size);
    frame.resize(fill(frame));
    sent.push_back(std::move(frame));
    return true;
  }
  void set_receiver(uk::frame_handler h) { receiver = h; }
  const uk::netif_counters& counters() const { return counters_; }

  std::vector<std::vector<std::byte>> sent;
  uk::frame_handler receiver;
  uk::netif_counters counters_;
};

struct netif_without_queue_limit {  // misses transmit_queue_limit (smoltcp #949)
  uk::mac_address mac() const { return {}; }
  std::size_t mtu() const { return 1500; }
  bool transmit(std::size_t, uk::frame_filler) { return true; }
  void set_receiver(uk::frame_handler) {}
  const uk::netif_counters& counters() const { return counters_; }
  uk::netif_counters counters_;
};

struct ethernet_double {
  uk::mac_address mac() const { return {}; }
  std::size_t mtu() const { return 1500; }
  bool transmit(uk::mac_address, std::uint16_t, std::size_t, uk::frame_filler) { return true; }
  void set_receiver(std::uint16_t, uk::ethernet_handler) {}
  const uk::netif_counters& counters() const { return counters_; }
  uk::netif_counters counters_;
};

struct arp_double {
  void set_address(uk::ipv4_address) {}
  std::optional<uk::mac_address> lookup(uk::ipv4_address ip) const {
    auto it = table.find(ip);
    return it == table.end() ? std::nullopt : std::optional(it->second);
  }
  void add_static(uk::ipv4_address ip, uk::mac_address mac) { table[ip] = mac; }
  bool transmit(uk::ipv4_address ip, std::uint16_t, std::size_t, uk::frame_filler) { return table.contains(ip); }
  uk::instant poll(uk::instant) { return uk::never; }
  int counters() const { return 0; }
  std::map<uk::ipv4_address, uk::mac_address> table;
};

struct ipv4_double {
  std::optional<uk::ipv4_prefix> address() const { return uk::ipv4_prefix::parse("10.0.0.2/24"); }
  std::optional<uk::ipv4_address> gateway() const { return std::nullopt; }
  std::size_t mtu() const { return 1480; }
  bool transmit(uk::ipv4_address, std::uint8_t, std::size_t, uk::frame_filler) { return true; }
  void set_receiver(std::uint8_t, uk::ipv4_handler) {}
  uk::instant poll(uk::instant now) { return now + std::chrono::seconds(1); }
  int counters() const { return 0; }
};

struct static_config_double {
  std::optional<uk::ipv4_prefix> address() const { return uk::ipv4_prefix::parse("10.137.0.5/32"); }
  std::optional<uk::ipv4_address> gateway() const { return uk::ipv4_address::parse("10.137.0.1"); }
  void set_change_handler(uk::delegate<void()>) {}
};

struct icmpv4_double {
  void port_unreachable(const uk::ipv4_datagram_info&, uk::frame) { ++reports; }
  int reports = 0;
};

struct udp_socket_double {
  asio::awaitable<uk::received_datagram> receive() { co_return uk::received_datagram{}; }
  asio::awaitable<void> send_to(uk::ipv4_endpoint, std::span<const std::byte>) { co_return; }
  std::uint16_t local_port() const { return 7; }
  void close() {}
};
struct udp_double {
  using socket_type = udp_socket_double;
  asio::awaitable<udp_socket_double> bind(std::uint16_t) { co_return udp_socket_double{}; }
};

struct flow_double {
  using executor_type = asio::any_io_executor;
  executor_type get_executor() { return executor; }
  template <class Buffers, class Token>
  auto async_read_some(const Buffers&, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [](auto handler) { std::move(handler)(asio::error::eof, 0); }, token);
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [n = asio::buffer_size(b)](auto handler) { std::move(handler)(boost::system::error_code{}, n); }, token);
  }
  void shutdown_send() {}
  void close() {}
  void abort() {}
  uk::ipv4_endpoint local_endpoint() const { return {}; }
  uk::ipv4_endpoint remote_endpoint() const { return {}; }
  executor_type executor;
};
struct listener_double {
  using flow_type = flow_double;
  asio::awaitable<flow_double> accept() { co_return flow_double{}; }
  std::uint16_t local_port() const { return 80; }
  void close() {}
};
struct tcp_double {
  using flow_type = flow_double;
  using listener_type = listener_double;
  asio::awaitable<listener_double> listen(std::uint16_t) { co_return listener_double{}; }
  asio::awaitable<flow_double> connect(uk::ipv4_endpoint) { co_return flow_double{}; }
  asio::awaitable<flow_double> connect(uk::ipv4_endpoint, uk::duration) { co_return flow_double{}; }
};
struct tcp_without_timeout {  // misses connect(to, timeout)
  using flow_type = flow_double;
  using listener_type = listener_double;
  asio::awaitable<listener_double> listen(std::uint16_t) { co_return listener_double{}; }
  asio::awaitable<flow_double> connect(uk::ipv4_endpoint) { co_return flow_double{}; }
};

struct stack_double {
  udp_double& udp() { return udp_; }
  tcp_double& tcp() { return tcp_; }
  udp_double udp_;
  tcp_double tcp_;
};
struct direct_stack_double : stack_double {
  ipv4_double& ipv4() { return ipv4_; }
  icmpv4_double& icmpv4() { return icmpv4_; }
  arp_double& arp() { return arp_; }
  ethernet_double& ethernet() { return ethernet_; }
  ipv4_double ipv4_;
  icmpv4_double icmpv4_;
  arp_double arp_;
  ethernet_double ethernet_;
};

struct virtual_clock {
  uk::instant now() const { return t; }
  uk::instant t{};
};

struct counting_random {
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return next++; }
  void fill(std::span<std::byte> bytes) {
    for (auto& b : bytes) b = static_cast<std::byte>(next++);
  }
  result_type next = 0;
};

struct lifecycle_double {
  asio::awaitable<uk::shutdown_request> await_shutdown_request() { co_return uk::shutdown_request::poweroff; }
};

struct qubes_db_double {
  std::optional<std::string> read(std::string_view key) const {
    auto it = entries.find(std::string(key));
    return it == entries.end() ? std::nullopt : std::optional(it->second);
  }
  asio::awaitable<void> write(std::string_view k, std::string_view v) {
    entries[std::string(k)] = v;
    co_return;
  }
  asio::awaitable<void> remove(std::string_view k) {
    entries.erase(std::string(k));
    co_return;
  }
  asio::awaitable<void> changed() { co_return; }
  std::map<std::string, std::string> entries;
};

struct qubes_rexec_double {
  using flow_type = flow_double;
  using service_handler = std::function<asio::awaitable<int>(flow_double&)>;
  void register_service(std::string_view name, service_handler h) { services[std::string(name)] = std::move(h); }
  asio::awaitable<flow_double> call(std::string_view, std::string_view) { co_return flow_double{}; }
  std::map<std::string, service_handler> services;
};

struct qubes_gui_double {
  std::uint32_t protocol_version() const { return (1u << 16) | 8; }
  asio::awaitable<void> run() { co_return; }
};

}  // namespace

TEST_CASE("module types: each test double satisfies its concept") {
  STATIC_REQUIRE(uk::netif<netif_double>);
  STATIC_REQUIRE(uk::ethernet_layer<ethernet_double>);
  STATIC_REQUIRE(uk::arp_layer<arp_double>);
  STATIC_REQUIRE(uk::ipv4_layer<ipv4_double>);
  STATIC_REQUIRE(uk::ipv4_config<static_config_double>);
  STATIC_REQUIRE(uk::icmpv4_layer<icmpv4_double>);
  STATIC_REQUIRE(uk::udp_socket<udp_socket_double>);
  STATIC_REQUIRE(uk::udp_layer<udp_double>);
  STATIC_REQUIRE(uk::tcp_flow<flow_double>);
  STATIC_REQUIRE(uk::tcp_listener<listener_double>);
  STATIC_REQUIRE(uk::tcp_layer<tcp_double>);
  STATIC_REQUIRE(uk::stack<stack_double>);
  STATIC_REQUIRE(uk::direct_stack<direct_stack_double>);
  STATIC_REQUIRE(uk::clock<virtual_clock>);
  STATIC_REQUIRE(uk::random_source<counting_random>);
  STATIC_REQUIRE(uk::lifecycle_device<lifecycle_double>);
  STATIC_REQUIRE(uk::qubes_db<qubes_db_double>);
  STATIC_REQUIRE(uk::qubes_rexec<qubes_rexec_double>);
  STATIC_REQUIRE(uk::qubes_gui<qubes_gui_double>);
}

TEST_CASE("module types: a type missing a requirement does not satisfy the concept") {
  STATIC_REQUIRE_FALSE(uk::netif<netif_without_queue_limit>);
  STATIC_REQUIRE_FALSE(uk::tcp_layer<tcp_without_timeout>);
  STATIC_REQUIRE_FALSE(uk::direct_stack<stack_double>);  // a plain stack hides its lower layers
  STATIC_REQUIRE_FALSE(uk::clock<counting_random>);
  STATIC_REQUIRE_FALSE(uk::udp_layer<tcp_double>);
}

TEST_CASE("module types: the real devices of this version satisfy theirs") {
  STATIC_REQUIRE(uk::stack<uk::socket::stack>);
  STATIC_REQUIRE_FALSE(uk::direct_stack<uk::socket::stack>);
  STATIC_REQUIRE(uk::tcp_flow<uk::socket::tcp_flow>);
  STATIC_REQUIRE(uk::udp_socket<uk::socket::udp_socket>);
  STATIC_REQUIRE(uk::clock<uk::monotonic_clock>);
  STATIC_REQUIRE(uk::random_source<uk::os_random>);
  STATIC_REQUIRE(uk::lifecycle_device<uk::lifecycle>);
}

TEST_CASE("module types: a netif double transmits through its filler and bounds its queue") {
  netif_double n;
  int written = 0;
  auto fill = [&](std::span<std::byte> out) {
    ++written;
    out[0] = std::byte{0x42};
    return std::size_t{1};
  };
  for (int i = 0; i < 5; ++i) n.transmit(64, fill);
  CHECK(written == 4);
  REQUIRE(n.sent.size() == 4);
  CHECK(n.sent[0].size() == 1);
  CHECK(n.counters().tx_dropped_queue_full == 1);
}

TEST_CASE("clock: the monotonic clock never goes back") {
  uk::monotonic_clock c;
  auto a = c.now();
  auto b = c.now();
  CHECK(b >= a);
  CHECK(a.time_since_epoch() >= uk::duration::zero());
}

TEST_CASE("random: os_random fills every byte and two draws differ") {
  uk::os_random r;
  std::array<std::byte, 64> a{}, b{};
  r.fill(a);
  r.fill(b);
  CHECK(a != b);  // 2^-512 chance of a false failure
  CHECK(r() != r());
}
