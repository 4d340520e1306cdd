// The www example's HTTP helpers, against the RFCs' own examples.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "byte_range.hpp"
#include "http_date.hpp"
#include "site.hpp"

namespace {
const unsigned char hello_bytes[] = {'h', 'e', 'l', 'l', 'o'};
const www::embedded_file test_files[] = {{"/index.html", hello_bytes}};
}  // namespace
std::span<const www::embedded_file> www::embedded_site() { return test_files; }

TEST_CASE("RFC 9110 5.6.7: the IMF-fixdate example round-trips") {
  const auto t = www::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  REQUIRE(t);
  CHECK(*t == 784111777);
  CHECK(www::format_http_date(*t) == "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST_CASE("RFC 9110 13.1.3: an invalid If-Modified-Since date is ignored (does not parse)") {
  CHECK_FALSE(www::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));  // RFC 850 form: not sent by curl
  CHECK_FALSE(www::parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  CHECK_FALSE(www::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  CHECK_FALSE(www::parse_http_date("Sun, 36 Nov 1994 08:49:37 GMT"));
  CHECK_FALSE(www::parse_http_date(""));
}

TEST_CASE("RFC 9110 14.1.2: the byte-range examples of a 10000-byte representation") {
  using kind = www::range_request::kind;
  auto r = www::parse_range("bytes=0-499", 10000);  // the first 500 bytes
  CHECK((r.what == kind::partial && r.range.first == 0 && r.range.length == 500));
  r = www::parse_range("bytes=500-999", 10000);  // the second 500 bytes
  CHECK((r.what == kind::partial && r.range.first == 500 && r.range.length == 500));
  r = www::parse_range("bytes=-500", 10000);  // the final 500 bytes
  CHECK((r.what == kind::partial && r.range.first == 9500 && r.range.length == 500));
  r = www::parse_range("bytes=9500-", 10000);
  CHECK((r.what == kind::partial && r.range.first == 9500 && r.range.length == 500));
  r = www::parse_range("bytes=9000-20000", 10000);  // last-pos past the end is clamped (14.1.1)
  CHECK((r.what == kind::partial && r.range.first == 9000 && r.range.length == 1000));
}

TEST_CASE("RFC 9110 14.1.1: a first-pos at or past the end is unsatisfiable, a malformed range is ignored") {
  using kind = www::range_request::kind;
  CHECK(www::parse_range("bytes=10000-", 10000).what == kind::unsatisfiable);
  CHECK(www::parse_range("bytes=-0", 10000).what == kind::unsatisfiable);
  CHECK(www::parse_range("bytes=5-1", 10000).what == kind::whole);
  CHECK(www::parse_range("bytes=0-1,5-6", 10000).what == kind::whole);  // several ranges: served whole
  CHECK(www::parse_range("items=0-1", 10000).what == kind::whole);
  CHECK(www::parse_range("bytes=abc", 10000).what == kind::whole);
  CHECK(www::parse_range("bytes=99999999999999999999-", 10000).what == kind::whole);
}

TEST_CASE("site paths: decoded, directories get index.html, dot-dot and NUL refused") {
  CHECK(www::site_path_of("/") == "/index.html");
  CHECK(www::site_path_of("/a/b.txt?x=1") == "/a/b.txt");
  CHECK(www::site_path_of("/sub%20dir/f.txt") == "/sub dir/f.txt");
  CHECK(www::site_path_of("/docs/") == "/docs/index.html");
  CHECK(www::site_path_of("//a/./b") == "/a/b");
  CHECK_FALSE(www::site_path_of("/../etc/passwd"));
  CHECK_FALSE(www::site_path_of("/a/%2e%2e/%2e%2e/etc/passwd"));
  CHECK_FALSE(www::site_path_of("/a%00b"));
  CHECK_FALSE(www::site_path_of("/a%2"));
  CHECK_FALSE(www::site_path_of("relative"));
  CHECK_FALSE(www::site_path_of(""));
}

TEST_CASE("RFC 9110 8.3: content types from the extension") {
  CHECK(www::content_type_of("/index.html") == "text/html; charset=utf-8");
  CHECK(www::content_type_of("/A.PNG") == "image/png");
  CHECK(www::content_type_of("/dir.d/noextension") == "application/octet-stream");
}

TEST_CASE("the embedded site and a directory site serve their files and nothing outside") {
  auto embedded = www::site::embedded();
  auto index = embedded.open("/index.html");
  REQUIRE(index);
  std::array<unsigned char, 8> out{};
  CHECK(index->read(1, out) == 4);
  CHECK(out[0] == 'e');
  CHECK_FALSE(embedded.open("/missing"));

  const auto dir = std::filesystem::temp_directory_path() / "uk-www-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "root");
  std::ofstream(dir / "root" / "a.txt") << "abc";
  std::ofstream(dir / "secret.txt") << "secret";
  std::filesystem::create_symlink(dir / "secret.txt", dir / "root" / "link.txt");
  auto site = www::site::directory(dir / "root");
  auto a = site.open("/a.txt");
  REQUIRE(a);
  CHECK(a->size() == 3);
  CHECK_FALSE(site.open("/link.txt"));
  CHECK_FALSE(site.open("/nope.txt"));
  std::filesystem::remove_all(dir);
}
