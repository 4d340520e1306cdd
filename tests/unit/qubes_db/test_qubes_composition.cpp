// The qubes configuration's stack and devices (uk/stack_for.hpp, uk/runtime/devices.hpp).
#include <catch2/catch.hpp>

#include <uk/qubes/devices.hpp>  // this test is built for unix: include the qubes composition explicitly
#include <uk/stack.hpp>

#include <type_traits>

#include <boost/hana/contains.hpp>

namespace hana = boost::hana;

using qubes_stack = uk::stack_for<uk::target::qubes, uk::net::direct>;

static_assert(std::is_same_v<qubes_stack, uk::direct::stack<uk::net::pcap_writer<uk::net::tap>, uk::qubes::qubesdb_config>>);
static_assert(std::is_same_v<uk::netif_for<uk::target::qubes, uk::net::direct>, uk::net::pcap_writer<uk::net::tap>>);
static_assert(uk::udp_stack<qubes_stack>);
static_assert(uk::ipv4_config<uk::qubes::qubesdb_config>);
static_assert(uk::qubes_db<uk::qubes::db>);
static_assert(!uk::supports<uk::target::qubes, uk::net::socket>);

TEST_CASE("composition: a Qubes app can ask for QubesDB and the QubesDB IPv4 configuration as devices") {
  constexpr auto devices = uk::devices_for<uk::target::qubes, uk::net::direct>;
  STATIC_REQUIRE(hana::contains(devices, hana::type_c<uk::qubes::db>));
  STATIC_REQUIRE(hana::contains(devices, hana::type_c<uk::qubes::qubesdb_config>));
  STATIC_REQUIRE(hana::contains(devices, hana::type_c<qubes_stack>));
  // The configuration reaches dom0 through QubesDB, which opens its vchan through the domains device.
  STATIC_REQUIRE(std::is_same_v<uk::qubes::qubesdb_config::dependencies, uk::device_list<uk::qubes::db>>);
  STATIC_REQUIRE(std::is_same_v<uk::qubes::db::dependencies, uk::device_list<uk::qubes::domains>>);
  // Off Qubes, none of it is offered.
  STATIC_REQUIRE_FALSE(hana::contains(uk::devices_for<uk::target::unix, uk::net::direct>, hana::type_c<uk::qubes::db>));
}
