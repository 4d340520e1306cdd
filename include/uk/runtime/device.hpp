// What uk::run gives a device when it connects it, and how a device says it
// could not connect.
//
// A device is a class that uk::run constructs once, in dependency order, as
// Mirage's generated main calls each device's `connect`:
//
//   struct my_device {
//     using keys = uk::key_list<my_key, ...>;               // its runtime keys
//     using dependencies = uk::device_list<other>;          // optional
//     static constexpr std::string_view device_name = "my-device";
//     template <class Keys> my_device(uk::device_context&, const Keys&, other&...);
//     asio::awaitable<void> connect();                                    // optional, async part
//   };
//
// The constructor must not block; anything that waits (a TAP being opened is
// quick, a DHCP lease is not) goes in connect(). Either may throw
// uk::device_error, which stops the boot with its message.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "uk/asio.hpp"

namespace uk {

/// The keys a device or application declares: `using keys = uk::key_list<a_key, b_key>;`
template <class... Keys>
using key_list = boost::hana::tuple<boost::hana::type<Keys>...>;

/// The devices a device depends on: `using dependencies = uk::device_list<netif>;`
template <class... Devices>
using device_list = boost::hana::tuple<boost::hana::type<Devices>...>;

/// Given to every device at construction.
struct device_context {
  asio::any_io_executor executor;
  std::string_view program;  ///< argv[0]'s base name, for messages
};

/// Thrown by a device that cannot connect; uk::run prints it and exits with exit_boot_failure.
class device_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace uk
