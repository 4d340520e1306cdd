// Reads a `socat -x -v` capture (tests/data/qubes/*.txt): a list of chunks,
// each with its direction ('>' or '<') and its bytes, in the order captured.
#pragma once

#include <cctype>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace uk::test::qdb {

struct chunk {
  char direction = '>';
  std::vector<std::byte> bytes;
};

/// Every chunk of the capture `name` under tests/data/qubes/.
inline std::vector<chunk> read_socat_transcript(const std::string& name) {
  std::ifstream in(std::string(UK_TEST_DATA_DIR) + "/qubes/" + name);
  if (!in) throw std::runtime_error("cannot open transcript " + name);
  std::vector<chunk> chunks;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line == "--") continue;
    if (line[0] == '>' || line[0] == '<') {
      chunks.push_back({line[0], {}});
      continue;
    }
    if (chunks.empty() || line[0] != ' ') continue;
    // " xx xx ... xx  ascii": the hex area is 16 fields of 3 characters after the first space.
    std::istringstream hex(line.substr(1, 48));
    std::string byte;
    while (hex >> byte) chunks.back().bytes.push_back(static_cast<std::byte>(std::stoul(byte, nullptr, 16)));
  }
  return chunks;
}

}  // namespace uk::test::qdb
