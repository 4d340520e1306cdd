#include <catch2/catch.hpp>

#include <uk/delegate.hpp>

namespace {
struct counter {
  int total = 0;
  void add(int n) { total += n; }
};
}  // namespace

TEST_CASE("delegate: refers to a callable without owning it") {
  int calls = 0;
  auto f = [&](int x) { calls += x; };
  uk::delegate<void(int)> d = f;
  REQUIRE(d);
  d(2);
  d(3);
  CHECK(calls == 5);
}

TEST_CASE("delegate: binds a member function") {
  counter c;
  auto d = uk::delegate<void(int)>::bind<&counter::add>(c);
  d(7);
  CHECK(c.total == 7);
}

TEST_CASE("delegate: empty by default and two words in size") {
  uk::delegate<int(int)> d;
  CHECK_FALSE(d);
  STATIC_REQUIRE(sizeof(d) == 2 * sizeof(void*));
}

TEST_CASE("delegate: returns the callable's result") {
  auto twice = [](int x) { return 2 * x; };
  uk::delegate<int(int)> d = twice;
  CHECK(d(21) == 42);
}
