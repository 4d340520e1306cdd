// Runtime keys: typed command-line settings declared by each layer, as
// Functoria's keys are in MirageOS (`--ipv4=10.0.0.2/24`, `-l '*:debug'`).
//
// A key is a tag type:
//
//   struct interface_key {
//     using value_type = std::string;
//     static constexpr std::string_view name = "interface";   // --interface
//     static constexpr char short_name = 'i';                 // optional: -i VALUE, -iVALUE
//     static constexpr std::string_view group = "netif";      // --help lists keys by group
//     static constexpr std::string_view doc = "The TAP device to use; created when absent.";
//     static constexpr std::string_view default_text = "tap0"; // optional, see below
//     // optional, integer keys only: static constexpr long long min = 1, max = 65535;
//   };
//
// Every key has a default or says it needs none: either `default_text` (parsed
// by the value parser when defaults() runs: a default that does not parse is a
// bug, reported by std::logic_error), or a value_type std::optional<T> (default
// std::nullopt), or `static constexpr bool required = true` (parse_keys fails
// when the key is not given). Values are parsed by uk::key_parser<T>
// (uk/detail/key_parsers.hpp); keys whose value is a bool are flags.
//
// parse_keys<Keys...>(program, args) reads argv (without argv[0]):
//   --key=VALUE  --key VALUE  -k VALUE  -kVALUE  --flag  --no-flag  --flag=false  --
// A key given twice: the last one wins. In "--key VALUE" and "-k VALUE" the
// next argument is the value unless it looks like an option ("-x...", "--...";
// "-" and negative numbers are values): write "--key=-x" for such a value.
// A flag takes no separate value ("--flag false" is a positional argument,
// hence an error), but "-fVALUE" and "--flag=VALUE" give one. "--help"
// anywhere before "--" (and "-h", unless a key uses 'h') wins over errors.
//
// Exit codes follow a Mirage unikernel's: 63 after --help, 64 on a usage error.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "uk/detail/did_you_mean.hpp"
#include "uk/detail/key_help.hpp"
#include "uk/detail/key_parsers.hpp"
#include "uk/result.hpp"

namespace uk {

inline constexpr int exit_help = 63;   ///< --help was given: print `message` to stdout, exit 63
inline constexpr int exit_usage = 64;  ///< a usage error: print `message` to stderr, exit 64

/// Why parse_keys did not produce values. `message` is complete, ends with a
/// newline and is meant to be written as is: the help text (code 63), or
/// "PROGRAM: what is wrong\nTry 'PROGRAM --help' for the list of keys.\n" (64).
struct key_exit {
  int code;
  std::string message;
};

namespace detail {

template <class T>
struct optional_traits {
  using value = T;
  static constexpr bool is_optional = false;
};
template <class T>
struct optional_traits<std::optional<T>> {
  using value = T;
  static constexpr bool is_optional = true;
};

}  // namespace detail

/// The members every key has; the optional ones are detected below.
template <class K>
concept runtime_key = requires {
  typename K::value_type;
  { K::name } -> std::convertible_to<std::string_view>;
  { K::group } -> std::convertible_to<std::string_view>;
  { K::doc } -> std::convertible_to<std::string_view>;
};

namespace keys {

/// The type parsed from text: value_type, or T for std::optional<T>.
template <runtime_key K>
using parsed_t = typename detail::optional_traits<typename K::value_type>::value;

template <class K>
inline constexpr bool has_short_name = requires {
  { K::short_name } -> std::convertible_to<char>;
};
template <class K>
inline constexpr bool has_default_text = requires {
  { K::default_text } -> std::convertible_to<std::string_view>;
};
template <class K>
inline constexpr bool is_required = [] {
  constexpr bool declared = requires { bool{K::required}; };
  if constexpr (declared) return bool{K::required};
  return false;
}();
template <class K>
inline constexpr bool is_optional = detail::optional_traits<typename K::value_type>::is_optional;
template <class K>
inline constexpr bool is_bounded = requires {
  { K::min } -> std::convertible_to<long long>;
  { K::max } -> std::convertible_to<long long>;
};
/// A flag: its value is a bool (or an optional bool); --name, --no-name.
template <class K>
inline constexpr bool is_flag = std::is_same_v<parsed_t<K>, bool>;

template <class K>
constexpr char short_name() noexcept {
  if constexpr (has_short_name<K>) return K::short_name;
  return '\0';
}

/// The rules a single key must follow, each with its own message.
template <class K>
constexpr bool check_key() {
  static_assert(runtime_key<K>, "a key needs value_type, name, group and doc");
  static_assert(parsable_key_value<parsed_t<K>>,
                "no uk::key_parser<T> for this key's value type: specialize one");
  static_assert(!std::string_view(K::name).empty() && std::string_view(K::name)[0] != '-' &&
                    std::string_view(K::name).find('=') == std::string_view::npos,
                "a key name is non-empty, does not start with '-' and has no '='");
  static_assert(std::string_view(K::name) != "help", "--help is reserved");
  static_assert(has_default_text<K> || is_optional<K> || is_required<K>,
                "a key needs a default_text, an optional value_type, or required = true");
  static_assert(!is_required<K> || !has_default_text<K>, "a required key has no default_text");
  if constexpr (has_short_name<K>) {
    static_assert(short_name<K>() != '-' && short_name<K>() != '=' && short_name<K>() > ' ' &&
                      short_name<K>() < 0x7f,
                  "a short name is a printable ASCII character other than '-' and '='");
  }
  if constexpr (is_bounded<K>) {
    static_assert(key_integer<parsed_t<K>>, "min and max are for integer keys");
    static_assert(K::min <= K::max, "min must not exceed max");
  }
  return true;
}

/// True when no two keys share a name or a short name, and no flag's
/// "no-NAME" is another key's name. key_values<Keys...> static_asserts it.
template <class... Keys>
constexpr bool distinct() {
  constexpr std::size_t n = sizeof...(Keys);
  if constexpr (n == 0) {
    return true;
  } else {
    const std::array<std::string_view, n> names{std::string_view(Keys::name)...};
    const std::array<char, n> shorts{short_name<Keys>()...};
    const std::array<bool, n> flags{is_flag<Keys>...};
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        if (i == j) continue;
        if (names[i] == names[j]) return false;
        if (shorts[i] != '\0' && shorts[i] == shorts[j]) return false;
        if (flags[i] && names[j].size() == names[i].size() + 3 && names[j].starts_with("no-") &&
            names[j].substr(3) == names[i])
          return false;
      }
    }
    return true;
  }
}

template <class K, class... Keys>
inline constexpr bool contains = (std::is_same_v<K, Keys> || ...);

template <class K, class First, class... Rest>
constexpr std::size_t index_of() noexcept {
  if constexpr (std::is_same_v<K, First>) {
    return 0;
  } else {
    return 1 + index_of<K, Rest...>();
  }
}

}  // namespace keys

/// The value name shown in --help: --interface=STRING.
template <runtime_key K>
constexpr std::string_view key_metavar() noexcept {
  return key_parser<keys::parsed_t<K>>::metavar;
}

/// What a value of K looks like, for error messages: for integer keys
/// "an integer from MIN to MAX" (K::min/K::max, else the type's range).
template <runtime_key K>
std::string key_expected() {
  using T = keys::parsed_t<K>;
  if constexpr (key_integer<T>) {
    using limits = std::numeric_limits<T>;
    if constexpr (keys::is_bounded<K>) {
      // The tighter of the key's bounds and the type's range.
      const bool low_is_key = std::cmp_greater(K::min, limits::min());
      const bool high_is_key = std::cmp_less(K::max, limits::max());
      const std::string low =
          low_is_key ? fmt::format("{}", K::min) : fmt::format("{}", limits::min());
      const std::string high =
          high_is_key ? fmt::format("{}", K::max) : fmt::format("{}", limits::max());
      return fmt::format("an integer from {} to {}", low, high);
    } else {
      return fmt::format("an integer from {} to {}", limits::min(), limits::max());
    }
  } else {
    return std::string(key_parser<T>::expected);
  }
}

/// Parses the text of key K: the value parser of its type, then K's bounds
/// for integer keys, wrapped in std::optional for optional keys. nullopt when
/// the text is not a value of K.
template <runtime_key K>
std::optional<typename K::value_type> parse_key_value(std::string_view text) {
  using T = keys::parsed_t<K>;
  std::optional<T> parsed = key_parser<T>::parse(text);
  if (!parsed) return std::nullopt;
  if constexpr (keys::is_bounded<K>) {
    if (std::cmp_less(*parsed, K::min) || std::cmp_greater(*parsed, K::max)) return std::nullopt;
  }
  return std::optional<typename K::value_type>(std::in_place, std::move(*parsed));
}

template <class... Keys>
class key_values;

namespace detail {
template <class Values, class... Keys>
struct unique_keys;
template <class... Done>
struct unique_keys<key_values<Done...>> {
  using type = key_values<Done...>;
};
template <class... Done, class K, class... Rest>
struct unique_keys<key_values<Done...>, K, Rest...>
    : std::conditional_t<keys::contains<K, Done...>, unique_keys<key_values<Done...>, Rest...>,
                         unique_keys<key_values<Done..., K>, Rest...>> {};
}  // namespace detail

/// key_values of Keys... with repeated types dropped (first occurrence kept):
/// for collecting the keys of layers that share one.
template <class... Keys>
using unique_key_values_t = typename detail::unique_keys<key_values<>, Keys...>::type;

/// The values of a set of keys: every key at its default, then what argv gave.
/// (A default-constructed key_values holds value-initialized values, not the
/// keys' defaults: start from defaults() or parse_keys.)
template <class... Keys>
class key_values {
  static_assert((keys::check_key<Keys>() && ...));
  static_assert(keys::distinct<Keys...>(),
                "two keys share a name or a short name, a key type is listed twice "
                "(see uk::unique_key_values_t), or a key is named no-FLAG for a flag FLAG");

 public:
  /// The value of key K.
  template <class K>
  const typename K::value_type& get() const noexcept {
    static_assert(keys::contains<K, Keys...>, "K is not one of this key_values' keys");
    return std::get<keys::index_of<K, Keys...>()>(values_);
  }

  /// Sets the value of key K (for tests and programmatic configuration).
  template <class K>
  void set(typename K::value_type value) {
    static_assert(keys::contains<K, Keys...>, "K is not one of this key_values' keys");
    std::get<keys::index_of<K, Keys...>()>(values_) = std::move(value);
  }

  /// Every key at its default: default_text parsed, std::nullopt for an
  /// optional key without one, a value-initialized T for a required key.
  /// Throws std::logic_error naming the key if a default_text does not parse.
  static key_values defaults() {
    key_values v;
    (v.template set_default<Keys>(), ...);
    return v;
  }

  /// parse_keys for these keys (the same function, for a key_values type at hand).
  static result<key_values, key_exit> parse(std::string_view program,
                                            std::span<const char* const> args);

  /// The --help text.
  static std::string help(std::string_view program);

 private:
  template <class K>
  void set_default() {
    if constexpr (keys::has_default_text<K>) {
      auto value = parse_key_value<K>(K::default_text);
      if (!value) {
        throw std::logic_error(fmt::format("uk key --{}: its default_text {} is not {}", K::name,
                                           detail::quoted(K::default_text), key_expected<K>()));
      }
      set<K>(std::move(*value));
    }
  }

  std::tuple<typename Keys::value_type...> values_{};
};

namespace detail {

template <class K>
constexpr key_info info_of() {
  std::optional<std::string_view> default_text;
  if constexpr (keys::has_default_text<K>) default_text = K::default_text;
  return {.name = K::name,
          .short_name = keys::short_name<K>(),
          .flag = keys::is_flag<K>,
          .required = keys::is_required<K>,
          .group = K::group,
          .doc = K::doc,
          .metavar = key_metavar<K>(),
          .default_text = default_text};
}

inline key_exit usage_error(std::string_view program, std::string_view what) {
  return {exit_usage,
          fmt::format("{}: {}\nTry '{} --help' for the list of keys.\n", program, what, program)};
}

/// An argument that "--key VALUE" does not take as VALUE: "-x", "--x"; but
/// "-" and negative numbers ("-5", "-.5") are values.
inline bool looks_like_option(std::string_view arg) noexcept {
  if (arg.size() < 2 || arg[0] != '-') return false;
  const char c = arg[1];
  return !((c >= '0' && c <= '9') || c == '.');
}

/// One key of key_values<Keys...>, as parse_keys needs it at run time.
template <class Values>
struct argv_slot {
  key_info info;
  bool (*assign)(Values&, std::string_view text);  // parses and stores; false if not a value
  void (*set_flag)(Values&, bool on);              // flags only
  std::string (*expected)();                       // key_expected<K>()
  std::string (*explain)(std::string_view text);   // key_parser<T>::explain, or ""
};

template <class K, class Values>
argv_slot<Values> slot_of() {
  argv_slot<Values> s{info_of<K>(), nullptr, nullptr, nullptr, nullptr};
  s.assign = [](Values& v, std::string_view text) {
    auto value = parse_key_value<K>(text);
    if (!value) return false;
    v.template set<K>(std::move(*value));
    return true;
  };
  if constexpr (keys::is_flag<K>) {
    s.set_flag = [](Values& v, bool on) { v.template set<K>(typename K::value_type(on)); };
  }
  s.expected = [] { return key_expected<K>(); };
  s.explain = [](std::string_view text) -> std::string {
    using parser = key_parser<keys::parsed_t<K>>;
    constexpr bool explains = requires { std::string(parser::explain(text)); };
    if constexpr (explains) return parser::explain(text);
    return {};
  };
  return s;
}

template <class Values>
result<Values, key_exit> parse_args(std::string_view program,
                                    std::span<const argv_slot<Values>> slots,
                                    std::span<const char* const> args) {
  const auto find_long = [&](std::string_view name) -> const argv_slot<Values>* {
    for (const auto& s : slots)
      if (s.info.name == name) return &s;
    return nullptr;
  };
  const auto find_short = [&](char c) -> const argv_slot<Values>* {
    for (const auto& s : slots)
      if (s.info.short_name == c) return &s;
    return nullptr;
  };
  const bool h_is_help = find_short('h') == nullptr;

  // --help wins over every error, wherever it is (before "--").
  for (const char* arg : args) {
    const std::string_view a = arg;
    if (a == "--") break;
    if (a == "--help" || (h_is_help && a == "-h")) {
      std::vector<key_info> infos;
      for (const auto& s : slots) infos.push_back(s.info);
      return failure<key_exit>{{exit_help, help_text(program, infos)}};
    }
  }

  Values values = Values::defaults();
  std::vector<bool> given(slots.size(), false);
  const auto fail = [&](std::string_view what) {
    return failure<key_exit>{usage_error(program, what)};
  };
  const auto bad_value = [&](const argv_slot<Values>& s, std::string_view shown,
                             std::string_view text) {
    std::string what = fmt::format("{}: expected {}, got {}", shown, s.expected(), quoted(text));
    if (const std::string why = s.explain(text); !why.empty()) what += fmt::format(": {}", why);
    return fail(what);
  };

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--") {
      if (i + 1 < args.size())
        return fail(fmt::format("unexpected argument {}", quoted(args[i + 1])));
      break;
    }
    // The value of "--key VALUE" / "-k VALUE": the next argument, if it is one.
    const auto next_value = [&]() -> std::optional<std::string_view> {
      if (i + 1 < args.size() && !looks_like_option(args[i + 1]))
        return std::string_view(args[++i]);
      return std::nullopt;
    };

    if (arg.starts_with("--")) {
      const std::string_view body = arg.substr(2);
      const std::size_t equals = body.find('=');
      const std::string_view name = body.substr(0, equals);
      const std::optional<std::string_view> attached =
          equals == std::string_view::npos ? std::nullopt : std::optional(body.substr(equals + 1));
      const std::string shown = fmt::format("--{}", escaped(name));

      if (const auto* s = find_long(name)) {
        given[static_cast<std::size_t>(s - slots.data())] = true;
        if (attached) {
          if (!s->assign(values, *attached)) return bad_value(*s, shown, *attached);
        } else if (s->info.flag) {
          s->set_flag(values, true);
        } else if (const auto text = next_value()) {
          if (!s->assign(values, *text)) return bad_value(*s, shown, *text);
        } else {
          return fail(fmt::format("{} needs a value ({})", shown, s->info.metavar));
        }
        continue;
      }
      if (name.starts_with("no-")) {
        if (const auto* s = find_long(name.substr(3))) {
          if (!s->info.flag)
            return fail(fmt::format("unknown key {}; --{} is not a flag", shown, s->info.name));
          if (attached) return fail(fmt::format("{} takes no value", shown));
          given[static_cast<std::size_t>(s - slots.data())] = true;
          s->set_flag(values, false);
          continue;
        }
      }
      std::vector<std::string_view> candidates{"help"};
      std::vector<std::string> negated;
      for (const auto& s : slots) {
        candidates.push_back(s.info.name);
        if (s.info.flag) negated.push_back(fmt::format("no-{}", s.info.name));
      }
      for (const auto& n : negated) candidates.push_back(n);
      return fail(
          fmt::format("unknown key --{}{}", escaped(name), did_you_mean(name, candidates, "--")));
    }

    if (arg.size() >= 2 && arg[0] == '-') {
      const std::string shown = fmt::format("-{}", escaped(arg.substr(1, 1)));
      const auto* s = find_short(arg[1]);
      if (s == nullptr) return fail(fmt::format("unknown key {}", shown));
      given[static_cast<std::size_t>(s - slots.data())] = true;
      if (arg.size() > 2) {
        const std::string_view text = arg.substr(2);
        if (!s->assign(values, text)) return bad_value(*s, shown, text);
      } else if (s->info.flag) {
        s->set_flag(values, true);
      } else if (const auto text = next_value()) {
        if (!s->assign(values, *text)) return bad_value(*s, shown, *text);
      } else {
        return fail(fmt::format("{} needs a value ({})", shown, s->info.metavar));
      }
      continue;
    }

    return fail(fmt::format("unexpected argument {}", quoted(arg)));
  }

  for (std::size_t k = 0; k < slots.size(); ++k) {
    if (slots[k].info.required && !given[k])
      return fail(
          fmt::format("the key --{} ({}) is required", slots[k].info.name, slots[k].info.metavar));
  }
  return values;
}

}  // namespace detail

template <class... Keys>
result<key_values<Keys...>, key_exit> key_values<Keys...>::parse(
    std::string_view program, std::span<const char* const> args) {
  const std::array<detail::argv_slot<key_values>, sizeof...(Keys)> slots{
      detail::slot_of<Keys, key_values>()...};
  return detail::parse_args<key_values>(program, slots, args);
}

template <class... Keys>
std::string key_values<Keys...>::help(std::string_view program) {
  const std::array<detail::key_info, sizeof...(Keys)> infos{detail::info_of<Keys>()...};
  return detail::help_text(program, infos);
}

/// Parses argv (without argv[0]) into the values of Keys...: every key starts
/// at its default. On --help, fails with {exit_help, help text}; on a usage
/// error, with {exit_usage, "PROGRAM: ...\nTry 'PROGRAM --help' ...\n"}.
template <class... Keys>
result<key_values<Keys...>, key_exit> parse_keys(std::string_view program,
                                                 std::span<const char* const> args) {
  return key_values<Keys...>::parse(program, args);
}

}  // namespace uk
