// uk's spelling of Boost.Asio: `uk::asio` is `boost::asio`.
// Only the runtime, devices and application API (layers 4 and 5) include it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace uk {
namespace asio = boost::asio;
}  // namespace uk
