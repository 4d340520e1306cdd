// Byte vectors written as numbers, for tests that spell packets out.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <vector>

namespace uk::test {

inline std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

}  // namespace uk::test
