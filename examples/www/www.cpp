// www: a static HTTP/1.1 server in the spirit of mirage-www. Boost.Beast
// parses requests and serializes response headers over uk's TCP flows, so
// the same source serves on kernel sockets, the direct stack and Qubes.
//
//   GET and HEAD (RFC 9110 9.3.1, 9.3.2); other methods get 405 with Allow.
//   Persistent connections and pipelining (RFC 9112 9.3, 9.3.2).
//   Last-Modified / If-Modified-Since (RFC 9110 8.8.2, 13.1.3) -> 304.
//   Range: one byte range (RFC 9110 14.2) -> 206, or 416 when unsatisfiable.
//   Bounded request headers (431) and bodies (413), a bounded number of
//   connections (503 beyond it), 400 for a malformed request.
#include <uk/stack.hpp>

#include <algorithm>
#include <array>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "byte_range.hpp"
#include "http_date.hpp"
#include "site.hpp"

// g++ 12 at -O2 reports -Wmismatched-new-delete on the frames of the
// coroutines below, which Asio's awaitable_frame_base allocates and frees
// with its own matched operator new and delete: a false positive (the
// analysis does not see through the frame's recycling allocator).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct root_key {
  using value_type = std::optional<std::filesystem::path>;
  static constexpr std::string_view name = "root";
  static constexpr std::string_view group = "www";
  static constexpr std::string_view doc =
      "The directory to serve; without it, the small site compiled into the binary (uk's documentation).";
};

struct port_key {
  using value_type = std::uint16_t;
  static constexpr std::string_view name = "port";
  static constexpr std::string_view group = "www";
  static constexpr std::string_view doc = "The TCP port to serve HTTP on.";
  // 80 on a stack of its own; 8080 on the host's sockets, where 80 needs privileges.
  static constexpr std::string_view default_text =
      std::same_as<uk::selected_net, uk::net::socket> ? std::string_view("8080") : std::string_view("80");
  static constexpr long long min = 1, max = 65535;
};

struct max_connections_key {
  using value_type = int;
  static constexpr std::string_view name = "max-connections";
  static constexpr std::string_view group = "www";
  static constexpr std::string_view doc = "Connections served at once; more are answered 503 and closed.";
  static constexpr std::string_view default_text = "256";
  static constexpr long long min = 1, max = 100000;
};

struct max_header_key {
  using value_type = int;
  static constexpr std::string_view name = "max-header-bytes";
  static constexpr std::string_view group = "www";
  static constexpr std::string_view doc = "The largest request header accepted; a larger one gets 431.";
  static constexpr std::string_view default_text = "8192";
  static constexpr long long min = 256, max = 1 << 20;
};

namespace {

/// A request body is never needed (GET and HEAD have none); a small one is
/// read and ignored so the connection stays in step, a larger one ends it.
constexpr std::uint64_t max_body_bytes = 16 * 1024;

struct server_state {
  www::site site;
  int max_connections;
  std::size_t max_header_bytes;
  int active = 0;
};

/// What one request gets: status, headers, and which bytes of which file.
struct reply {
  http::status status = http::status::ok;
  std::string content_type;
  std::optional<www::resource> file;
  www::byte_range range{};     ///< the bytes of `file` sent
  std::string text;            ///< the body when there is no file (error pages)
  std::optional<std::time_t> last_modified;
  std::string content_range;
  bool allow_header = false;

  std::uint64_t body_length() const { return file ? range.length : text.size(); }
};

reply error_reply(http::status status, std::string_view why) {
  reply r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.text = fmt::format("{} {}\n{}\n", static_cast<unsigned>(status), http::obsolete_reason(status), why);
  return r;
}

template <class Body>
reply route(const http::request<Body>& req, const www::site& site) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    reply r = error_reply(http::status::method_not_allowed, "This server only serves GET and HEAD.");
    r.allow_header = true;  // RFC 9110 15.5.6: a 405 MUST carry Allow
    return r;
  }
  const auto path = www::site_path_of(req.target());
  if (!path) return error_reply(http::status::bad_request, "The request target is not a valid path.");
  auto file = site.open(*path);
  if (!file) return error_reply(http::status::not_found, fmt::format("{} is not here.", *path));

  reply r;
  r.content_type = www::content_type_of(*path);
  r.last_modified = file->modified();
  // RFC 9110 13.1.3: If-Modified-Since applies to GET and HEAD, and is ignored
  // when If-None-Match is present (this server sends no ETag, so that never matches).
  if (const auto since = req.find(http::field::if_modified_since);
      since != req.end() && req.find(http::field::if_none_match) == req.end()) {
    if (const auto t = www::parse_http_date(since->value()); t && file->modified() <= *t) {
      r.status = http::status::not_modified;  // 15.4.5: no content
      return r;
    }
  }
  const std::uint64_t size = file->size();
  r.range = {0, size};
  // RFC 9110 14.2: Range is defined for GET only; If-Range (13.1.5) with a date
  // that is not exactly our Last-Modified means "send it all".
  const auto range = req.find(http::field::range);
  bool use_range = req.method() == http::verb::get && range != req.end();
  if (const auto if_range = req.find(http::field::if_range); use_range && if_range != req.end())
    use_range = www::parse_http_date(if_range->value()) == file->modified();
  if (use_range) {
    const auto wanted = www::parse_range(range->value(), size);
    if (wanted.what == www::range_request::kind::unsatisfiable) {
      reply e = error_reply(http::status::range_not_satisfiable, "The range lies beyond the end of the file.");
      e.content_range = fmt::format("bytes */{}", size);  // 15.5.17
      return e;
    }
    if (wanted.what == www::range_request::kind::partial) {
      r.status = http::status::partial_content;
      r.range = wanted.range;
      r.content_range = fmt::format("bytes {}-{}/{}", wanted.range.first, wanted.range.first + wanted.range.length - 1, size);
    }
  }
  r.file.emplace(std::move(*file));
  return r;
}

/// Writes the reply: the header through Beast's serializer, then the body
/// straight from memory or from the file in pieces. Throws on a broken connection.
template <class Flow>
asio::awaitable<void> send(Flow& flow, const reply& r, unsigned version, bool keep_alive, bool head_request) {
  http::response<http::empty_body> header{r.status, version};
  header.set(http::field::server, "uk-www");
  header.set(http::field::date, www::format_http_date(std::time(nullptr)));
  if (!r.content_type.empty() && r.status != http::status::not_modified)
    header.set(http::field::content_type, r.content_type);
  if (r.last_modified) header.set(http::field::last_modified, www::format_http_date(*r.last_modified));
  if (r.file) header.set(http::field::accept_ranges, "bytes");
  if (!r.content_range.empty()) header.set(http::field::content_range, r.content_range);
  if (r.allow_header) header.set(http::field::allow, "GET, HEAD");
  if (r.status != http::status::not_modified) header.content_length(r.body_length());
  header.keep_alive(keep_alive);
  // The header is serialized by Beast, then sent in the same write as the
  // start of the body: a header and body written apart would meet Nagle's
  // algorithm and the peer's delayed ACK (RFC 9293 3.7.4, 3.8.6.3) and wait.
  std::ostringstream head_text;
  head_text << header.base();
  const std::string head = std::move(head_text).str();
  const bool no_body = head_request || r.status == http::status::not_modified;  // RFC 9110 9.3.2, 15.4.5
  if (no_body) {
    co_await asio::async_write(flow, asio::buffer(head), asio::use_awaitable);
    co_return;
  }
  if (!r.file) {
    co_await asio::async_write(flow, std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(r.text)}, asio::use_awaitable);
    co_return;
  }
  if (const auto bytes = r.file->in_memory()) {
    co_await asio::async_write(
        flow, std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(bytes->data() + r.range.first, r.range.length)},
        asio::use_awaitable);
    co_return;
  }
  std::vector<unsigned char> chunk(64 * 1024);
  bool head_sent = false;
  for (std::uint64_t sent = 0; sent < r.range.length || !head_sent;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), r.range.length - sent));
    const std::size_t got = want == 0 ? 0 : r.file->read(r.range.first + sent, std::span(chunk.data(), want));
    if (want != 0 && got == 0) throw boost::system::system_error(asio::error::eof, "the file shrank while it was sent");
    const auto body = asio::buffer(chunk.data(), got);
    if (head_sent)
      co_await asio::async_write(flow, body, asio::use_awaitable);
    else
      co_await asio::async_write(flow, std::array<asio::const_buffer, 2>{asio::buffer(head), body}, asio::use_awaitable);
    head_sent = true;
    sent += got;
  }
}

/// The status a parse error deserves (RFC 9112 2.2, RFC 6585 5, RFC 9110 15.5.14).
http::status status_of_parse_error(const boost::system::error_code& ec) {
  if (ec == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (ec == http::error::body_limit) return http::status::payload_too_large;
  return http::status::bad_request;
}

// Each connection holds the server state: at shutdown, uk::run destroys
// pending coroutines after start() has returned.
template <class Flow>
asio::awaitable<void> serve_connection(Flow flow, std::shared_ptr<server_state> shared) {
  server_state& state = *shared;
  ++state.active;
  struct leave {
    server_state& s;
    ~leave() { --s.active; }
  } on_exit{state};
  const uk::ipv4_endpoint peer = flow.remote_endpoint();
  try {
    if (state.active > state.max_connections) {
      uk::log::warning(uk::log::source::app, "{}: over --max-connections={}, answered 503", peer, state.max_connections);
      co_await send(flow, error_reply(http::status::service_unavailable, "Too many connections; try again later."),
                    11, false, false);
      flow.close();
      co_return;
    }
    // The buffer holds at most one request header and the start of the next
    // (pipelining): its bound is the header bound plus a body's worth.
    beast::flat_buffer buffer(state.max_header_bytes + max_body_bytes);
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(state.max_header_bytes));
      parser.body_limit(max_body_bytes);
      boost::system::error_code ec;
      co_await http::async_read(flow, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == asio::error::eof) break;  // closed between requests
      if (ec == http::error::buffer_overflow) ec = http::error::header_limit;
      if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
        // RFC 9112 2.2: a request that cannot be parsed gets 400 and the connection ends.
        const http::status status = status_of_parse_error(ec);
        uk::log::info(uk::log::source::app, "{} malformed request ({}): {}", peer, ec.message(),
                      static_cast<unsigned>(status));
        co_await send(flow, error_reply(status, ec.message()), 11, false, false);
        break;
      }
      if (ec) throw boost::system::system_error(ec);
      const auto& req = parser.get();
      const reply r = route(req, state.site);
      const bool keep_alive = req.keep_alive();
      const bool head = req.method() == http::verb::head;
      uk::log::info(uk::log::source::app, "{} \"{} {} HTTP/{}.{}\" {} {}", peer, req.method_string(), req.target(),
                    req.version() / 10, req.version() % 10, static_cast<unsigned>(r.status),
                    head ? 0 : r.body_length());
      co_await send(flow, r, req.version(), keep_alive, head);
      if (!keep_alive) break;
    }
    flow.shutdown_send();
  } catch (const boost::system::system_error& e) {
    uk::log::debug(uk::log::source::app, "{}: connection ended: {}", peer, e.code().message());
    flow.abort();
  }
}

template <class Listener>
asio::awaitable<void> accept_connections(Listener& listener, std::shared_ptr<server_state> state) {
  const auto executor = co_await asio::this_coro::executor;
  try {
    for (;;) asio::co_spawn(executor, serve_connection(co_await listener.accept(), state), asio::detached);
  } catch (const boost::system::system_error& e) {
    uk::log::debug(uk::log::source::app, "no longer accepting: {}", e.code().message());
  }
}

}  // namespace

struct www_app {
  using keys = uk::key_list<root_key, port_key, max_connections_key, max_header_key>;

  template <uk::stack Stack, uk::lifecycle_device Lifecycle>
  static asio::awaitable<int> start(Stack& net, Lifecycle& lifecycle) {
    const auto& root = uk::key_value<root_key>();
    if (root && !std::filesystem::is_directory(*root)) {
      uk::log::error(uk::log::source::app, "--root={}: not a directory", root->string());
      co_return 1;
    }
    auto state = std::make_shared<server_state>(root ? www::site::directory(*root) : www::site::embedded(),
                                                uk::key_value<max_connections_key>(),
                                                static_cast<std::size_t>(uk::key_value<max_header_key>()));
    auto listener = co_await net.tcp().listen(uk::key_value<port_key>());
    uk::log::info(uk::log::source::app, "serving {} on port {}",
                  state->site.is_embedded() ? std::string("the built-in site") : state->site.root().string(),
                  listener.local_port());
    asio::co_spawn(co_await asio::this_coro::executor, accept_connections(listener, state), asio::detached);
    co_await lifecycle.await_shutdown_request();
    uk::log::info(uk::log::source::app, "shutting down");
    listener.close();
    co_return 0;
  }
};

int main(int argc, char** argv) { return uk::run<www_app>(argc, argv); }
