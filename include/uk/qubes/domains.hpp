// uk::qubes::domains: who is who on a Qubes host, and the device that opens
// vchans between this VM and the others (Mirage reads the same from xenstore).
//
//   --vchan-dir=PATH           where the socket vchan's sockets live
//   --qubes-domid=N            this VM's domain id
//   --qubes-dom0-domid=N       the admin domain's id (QubesDB and qrexec peer)
//   --qubes-gui-domid=N        the GUI domain's id (the GUI agent's peer)
//
// The QubesDB, qrexec and GUI devices depend on this device and open their
// channels through it, so replacing the socket vchan by a Xen vchan later
// changes only this device's `channel` type.
#pragma once

#include <filesystem>
#include <string_view>
#include <utility>

#include "uk/asio.hpp"
#include "uk/keys.hpp"
#include "uk/qubes/vchan.hpp"
#include "uk/qubes/vchan_socket.hpp"
#include "uk/runtime/device.hpp"

namespace uk::qubes {

/// --vchan-dir=PATH: the directory of the socket vchan's sockets.
struct vchan_dir_key {
  using value_type = std::filesystem::path;
  static constexpr std::string_view name = "vchan-dir";
  static constexpr std::string_view group = "qubes";
  static constexpr std::string_view doc =
      "The directory of the vchan sockets (Qubes' socket vchan, $VCHAN_SOCKET_DIR of the dom0 daemons).";
  static constexpr std::string_view default_text = default_vchan_dir;
};

/// --qubes-domid=N: this VM's domain id (VCHAN_DOMAIN of the socket vchan).
struct domid_key {
  using value_type = int;
  static constexpr std::string_view name = "qubes-domid";
  static constexpr std::string_view group = "qubes";
  static constexpr std::string_view doc = "This VM's Xen domain id (the first domU Xen starts is 1).";
  static constexpr std::string_view default_text = "1";
  static constexpr long long min = 1, max = max_domid;
};

/// --qubes-dom0-domid=N: the admin domain, peer of QubesDB and qrexec.
struct dom0_domid_key {
  using value_type = int;
  static constexpr std::string_view name = "qubes-dom0-domid";
  static constexpr std::string_view group = "qubes";
  static constexpr std::string_view doc = "The domain id of dom0, which serves QubesDB and runs the qrexec daemon.";
  static constexpr std::string_view default_text = "0";
  static constexpr long long min = 0, max = max_domid;
};

/// --qubes-gui-domid=N: the domain running the GUI daemon.
struct gui_domid_key {
  using value_type = int;
  static constexpr std::string_view name = "qubes-gui-domid";
  static constexpr std::string_view group = "qubes";
  static constexpr std::string_view doc = "The domain id of the GUI domain (dom0 unless a GUI VM is used).";
  static constexpr std::string_view default_text = "0";
  static constexpr long long min = 0, max = max_domid;
};

/// The domain ids of this VM and its peers, and the channels between them.
class domains {
 public:
  using keys = key_list<vchan_dir_key, domid_key, dom0_domid_key, gui_domid_key>;
  static constexpr std::string_view device_name = "qubes domains";
  /// The vchan this build uses.
  using channel = vchan_socket;

  domains(asio::any_io_executor executor, std::filesystem::path vchan_dir, domid self, domid dom0 = 0, domid gui = 0)
      : executor_(std::move(executor)), vchan_dir_(std::move(vchan_dir)), self_(self), dom0_(dom0), gui_(gui) {}

  /// As uk::run creates it, from the keys above.
  template <class Keys>
  domains(device_context& context, const Keys& keys)
      : domains(context.executor, keys.template get<vchan_dir_key>(), keys.template get<domid_key>(),
                keys.template get<dom0_domid_key>(), keys.template get<gui_domid_key>()) {}

  domains(const domains&) = delete;
  domains& operator=(const domains&) = delete;

  domid self() const noexcept { return self_; }
  domid dom0() const noexcept { return dom0_; }
  domid gui() const noexcept { return gui_; }
  const std::filesystem::path& vchan_dir() const noexcept { return vchan_dir_; }
  const asio::any_io_executor& executor() const noexcept { return executor_; }

  /// The vchan `server` serves to this VM on `port`.
  vchan_address to(domid server, int port) const { return {vchan_dir_, server, self_, port}; }
  /// The vchan this VM serves to `client` on `port`.
  vchan_address from(domid client, int port) const { return {vchan_dir_, self_, client, port}; }

  /// Connects, as client, to the vchan `server` serves on `port` (waits until it exists).
  asio::awaitable<channel> connect(domid server, int port) const {
    const vchan_address address = to(server, port);  // named: g++ 12 mishandles temporaries in co_await
    co_return co_await channel::connect(executor_, address);
  }
  /// Serves a vchan to `client` on `port`: completes once the client has connected.
  asio::awaitable<channel> listen(domid client, int port) const {
    const vchan_address address = from(client, port);
    co_return co_await channel::listen(executor_, address);
  }

 private:
  asio::any_io_executor executor_;
  std::filesystem::path vchan_dir_;
  domid self_, dom0_, gui_;
};

}  // namespace uk::qubes
