// A fake qubes-guid (the GUI daemon), written from qubes-protocols.md section
// 3, over the socket vchan. Used by the unit tests of uk::qubes::gui and by
// the fake_gui tool.
//
//   connect()   connects to the agent's vchan (port 6000), reads its version;
//               refuses a major other than 1; negotiates 1.min(minor, ours);
//               sends the negotiated version only when the agent announced
//               1.4 or later (3.2 step 3), then the xconf
//   send(...)   a headed message to the agent
//   receive()   the agent's next headed message
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>

#include "uk/asio.hpp"
#include "uk/qubes/vchan_socket.hpp"
#include "uk/wire/qubes_gui.hpp"

namespace uk::test {

namespace gui_wire = wire::qubes_gui;

class fake_gui_daemon {
 public:
  fake_gui_daemon(asio::any_io_executor ex, std::filesystem::path dir, int vm_domid,
                  std::uint32_t own_version = gui_wire::version_1_8, gui_wire::xconf screen = {1024, 768, 24, 3073})
      : ex_(std::move(ex)), dir_(std::move(dir)), vm_(vm_domid), own_(own_version), screen_(screen) {}

  asio::awaitable<void> connect() {
    const qubes::vchan_address address{dir_, vm_, 0, gui_wire::port};  // named: g++ 12 and co_await temporaries
    const std::chrono::steady_clock::duration retry = std::chrono::milliseconds(5);
    socket_.emplace(co_await qubes::vchan_socket::connect(ex_, address, retry));
    std::byte v[4];
    co_await asio::async_read(*socket_, asio::buffer(v, 4), asio::use_awaitable);
    agent_version_ = *gui_wire::parse_version(v);
    if (gui_wire::major_of(agent_version_) != 1) throw std::runtime_error("fake guid: agent major version is not 1");
    version_ = gui_wire::version(1, std::min(gui_wire::minor_of(agent_version_), gui_wire::minor_of(own_)));
    std::vector<std::byte> out;
    if (agent_version_ >= gui_wire::version_1_4) {
      out.resize(4);
      gui_wire::emit_version(out, version_);
    }
    const std::size_t at = out.size();
    out.resize(at + gui_wire::xconf_length);
    gui_wire::emit_xconf(std::span(out).subspan(at), screen_);
    co_await asio::async_write(*socket_, asio::buffer(out.data(), out.size()), asio::use_awaitable);
  }

  std::uint32_t agent_version() const { return agent_version_; }
  std::uint32_t version() const { return version_; }

  asio::awaitable<void> send(gui_wire::message_type type, std::uint32_t window, std::vector<std::byte> body) {
    // Sized once: g++ 12 misreads a vector insert after the header as out of bounds (-Warray-bounds).
    std::vector<std::byte> m(gui_wire::header_length + body.size());
    gui_wire::emit_header(std::span(m).first(gui_wire::header_length),
                          {static_cast<std::uint32_t>(type), window, static_cast<std::uint32_t>(body.size())});
    std::copy(body.begin(), body.end(), m.begin() + static_cast<std::ptrdiff_t>(gui_wire::header_length));
    co_await asio::async_write(*socket_, asio::buffer(m.data(), m.size()), asio::use_awaitable);
  }

  /// The agent's next message, nullopt at EOF.
  asio::awaitable<std::optional<std::pair<gui_wire::header, std::vector<std::byte>>>> receive() {
    std::byte h[gui_wire::header_length];
    boost::system::error_code ec;
    co_await asio::async_read(*socket_, asio::buffer(h, sizeof h), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    const auto header = *gui_wire::parse_header(h);
    // 3.3: the daemon checks the body length against its table (fatal from 1.6).
    const long expected = gui_wire::body_length(header.type);
    if (expected >= 0 && static_cast<std::uint32_t>(expected) != header.untrusted_length)
      throw std::runtime_error("fake guid: a message whose length differs from the table");
    std::vector<std::byte> body(header.untrusted_length);
    co_await asio::async_read(*socket_, asio::buffer(body.data(), body.size()), asio::use_awaitable);
    co_return std::pair{header, std::move(body)};
  }

  void disconnect() {
    if (socket_) socket_->close();
    socket_.reset();
  }

 private:
  asio::any_io_executor ex_;
  std::filesystem::path dir_;
  int vm_;
  std::uint32_t own_;
  gui_wire::xconf screen_;
  std::uint32_t agent_version_ = 0, version_ = 0;
  std::optional<qubes::vchan_socket> socket_;
};

}  // namespace uk::test
