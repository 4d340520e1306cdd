// Reads the socat -x -v captures of tests/data/qubes (copied from
// shared/qubes/transcripts): each chunk is a direction line
// ("< date  length=N from=A to=B" or "> ..."), hex lines whose first 49
// columns hold up to 16 bytes, and "--".
#pragma once

#include <cstddef>
#include <fstream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace uk::test {

struct transcript_chunk {
  char direction;  ///< '<' or '>', as socat marks it (see the data README)
  std::vector<std::byte> bytes;
};

inline std::vector<transcript_chunk> read_transcript(const std::string& name) {
  const std::string path = std::string(UK_TEST_DATA_DIR) + "/qubes/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<transcript_chunk> chunks;
  std::size_t expected = 0;
  std::string line;
  auto check = [&] {
    if (!chunks.empty() && chunks.back().bytes.size() != expected)
      throw std::runtime_error(path + ": a chunk's length does not match its bytes");
  };
  while (std::getline(in, line)) {
    if (line.empty() || line == "--") continue;
    if (line[0] == '<' || line[0] == '>') {
      check();
      const auto at = line.find("length=");
      if (at == std::string::npos) throw std::runtime_error(path + ": no length in " + line);
      expected = std::stoul(line.substr(at + 7));
      chunks.push_back({line[0], {}});
      continue;
    }
    if (chunks.empty()) throw std::runtime_error(path + ": bytes before a direction line");
    std::istringstream hex(line.substr(0, 49));
    std::string token;
    while (hex >> token) chunks.back().bytes.push_back(static_cast<std::byte>(std::stoul(token, nullptr, 16)));
  }
  check();
  return chunks;
}

/// Every byte of the chunks going one way, in order: the stream one end wrote.
inline std::vector<std::byte> stream_of(const std::vector<transcript_chunk>& chunks, char direction) {
  std::vector<std::byte> out;
  for (const auto& c : chunks)
    if (c.direction == direction) out.insert(out.end(), c.bytes.begin(), c.bytes.end());
  return out;
}

inline std::vector<std::byte> bytes_of_text(std::string_view text) {
  std::vector<std::byte> out;
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline std::string text_of(std::span<const std::byte> bytes) {
  std::string out;
  for (std::byte b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

}  // namespace uk::test
