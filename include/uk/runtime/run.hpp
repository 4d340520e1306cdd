// uk::run<App>(argc, argv): the generated `main` of a Mirage unikernel.
//
//  1. Finds the devices App::start asks for: the first list of distinct
//     devices of this configuration (fewest first) with which
//     `App::start(devices&...)` is well-formed and returns
//     asio::awaitable<int>. Constrain the parameters with uk's concepts
//     (uk::stack, uk::lifecycle_device, ...): that is how a device is named.
//  2. Collects the keys of those devices, their dependencies, the init jobs'
//     devices, App::keys (if it declares any) and -l/--logs, and parses argv:
//     --help prints them and exits 63; a bad key or value exits 64.
//  3. Connects each device once, dependencies first. A device that throws
//     stops the boot: its message is logged and run returns exit_boot_failure.
//  4. Starts the init_for<Target> jobs, then co_awaits App::start and returns
//     its result. An exception escaping App::start is logged; run returns
//     exit_app_failure.
#pragma once

#include <exception>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/hana.hpp>
#include <fmt/format.h>

#include "uk/init_for.hpp"
#include "uk/keys.hpp"
#include "uk/log.hpp"
#include "uk/runtime/device.hpp"
#include "uk/runtime/devices.hpp"
#include "uk/target.hpp"

namespace uk {

/// Exit status when a device fails to connect.
inline constexpr int exit_boot_failure = 2;
/// Exit status when the application's start throws.
inline constexpr int exit_app_failure = 1;

namespace detail::run {

namespace hana = boost::hana;

/// Where uk::key_value<Key>() finds the value parsed for this process.
template <class Key>
inline const typename Key::value_type* key_slot = nullptr;

/// `Job::start(ds...)` is a start function of uk: it returns asio::awaitable<Result>.
template <class Job, class Result, class... Devices>
concept startable_with = requires(Devices&... ds) {
  { Job::start(ds...) } -> std::same_as<asio::awaitable<Result>>;
};

/// The most devices a start function may ask for.
inline constexpr std::size_t max_start_arguments = 4;

/// Every subset of `items` with at most max_start_arguments elements.
template <class Items>
constexpr auto small_subsets(Items items) {
  return hana::fold_left(items, hana::make_tuple(hana::make_tuple()), [](auto subsets, auto item) {
    auto grown = hana::filter(hana::transform(subsets, [=](auto s) { return hana::append(s, item); }),
                              [](auto s) { return hana::length(s) <= hana::size_c<max_start_arguments>; });
    return hana::concat(subsets, grown);
  });
}

/// Every ordered list of exactly K distinct devices from `available`.
template <std::size_t K, class Available>
constexpr auto argument_lists_of_length(Available available) {
  auto subsets = hana::filter(detail::run::small_subsets(available),
                              [](auto subset) { return hana::length(subset) == hana::size_c<K>; });
  return hana::flatten(hana::transform(subsets, hana::permutations));
}

/// The device types (a hana tuple of hana::type) that Job::start asks for, or
/// hana::nothing when no list of the available devices fits: the first list
/// that fits, shortest first. Lists of one length are only tried when no
/// shorter list fits (the number of lists grows as n^4 with n devices: a
/// configuration with seven devices has 1100 lists of up to four, and
/// checking each against Job::start is what costs compile time).
template <class Job, class Result, std::size_t K = 0, class Available>
constexpr auto start_arguments(Available available) {
  auto found = hana::find_if(argument_lists_of_length<K>(available), [](auto list) {
    return hana::unpack(list, [](auto... device) {
      return hana::bool_c<startable_with<Job, Result, typename decltype(device)::type...>>;
    });
  });
  if constexpr (decltype(hana::is_just(found))::value || K == max_start_arguments)
    return found;
  else
    return start_arguments<Job, Result, K + 1>(available);
}

template <class Device>
constexpr auto dependencies_of() {
  if constexpr (requires { typename Device::dependencies; })
    return typename Device::dependencies{};
  else
    return hana::tuple_t<>;
}

/// Appends `device` to `order` after its dependencies, each device once.
template <class Order, class Device>
constexpr auto add_in_dependency_order(Order order, Device device) {
  if constexpr (decltype(hana::contains(order, device))::value) {
    return order;
  } else {
    using type = typename decltype(device)::type;
    auto with_deps = hana::fold_left(dependencies_of<type>(), order,
                                     [](auto acc, auto dep) { return add_in_dependency_order(acc, dep); });
    return hana::append(with_deps, device);
  }
}

template <class Types>
constexpr auto in_dependency_order(Types types) {
  return hana::fold_left(types, hana::tuple_t<>,
                         [](auto acc, auto device) { return add_in_dependency_order(acc, device); });
}

template <class Types>
constexpr auto without_duplicates(Types types) {
  return hana::fold_left(types, hana::tuple_t<>, [](auto acc, auto t) {
    if constexpr (decltype(hana::contains(acc, t))::value)
      return acc;
    else
      return hana::append(acc, t);
  });
}

template <class T>
constexpr auto keys_of() {
  if constexpr (requires { typename T::keys; })
    return typename T::keys{};
  else
    return hana::tuple_t<>;
}

/// The key types of a build: the devices', then the app's, then --logs.
template <class App, class Devices>
constexpr auto collect_keys(Devices devices) {
  auto device_keys = hana::flatten(hana::transform(devices, [](auto d) {
    return keys_of<typename decltype(d)::type>();
  }));
  return without_duplicates(hana::concat(hana::concat(device_keys, keys_of<App>()),
                                         hana::tuple_t<log::logs_key>));
}

template <class Types>
using key_values_of = typename decltype(hana::unpack(Types{}, [](auto... k) {
  return hana::type_c<key_values<typename decltype(k)::type...>>;
}))::type;

/// One std::optional per device, in dependency order. Members are destroyed
/// in reverse order of declaration, so each device goes before the devices
/// it depends on (a std::tuple's order of destruction is unspecified).
template <class... Ds>
struct device_storage {};

template <class Head, class... Tail>
struct device_storage<Head, Tail...> {
  std::optional<Head> head;
  device_storage<Tail...> tail;  // declared after head: destroyed before it

  template <class D>
  std::optional<D>& get() {
    if constexpr (std::is_same_v<D, Head>)
      return head;
    else
      return tail.template get<D>();
  }
};

template <class Types>
using device_storage_of = typename decltype(hana::unpack(Types{}, [](auto... d) {
  return hana::type_c<device_storage<typename decltype(d)::type...>>;
}))::type;

/// An io_context whose services can be shut down before the devices are
/// destroyed: pending coroutines (which refer to devices) are destroyed
/// first, then the devices (whose Asio objects need the services), then the
/// services.
class boot_io_context : public asio::io_context {
 public:
  using asio::execution_context::shutdown;
};

/// Everything one boot owns.
template <class App, class Devices, class Keys>
struct boot {
  device_context context;
  const Keys& keys;
  device_storage_of<Devices> devices{};
  int status = 0;

  boot(device_context c, const Keys& k) : context(c), keys(k) {}
  boot(const boot&) = delete;
  boot& operator=(const boot&) = delete;

  template <class Device>
  Device& device() {
    return *devices.template get<Device>();
  }

  template <class Device>
  asio::awaitable<void> connect_one() {
    auto deps = dependencies_of<Device>();
    hana::unpack(deps, [&](auto... dep) {
      devices.template get<Device>().emplace(context, keys,
                                                       device<typename decltype(dep)::type>()...);
    });
    if constexpr (requires(Device& d) { d.connect(); }) co_await device<Device>().connect();
    log::debug(log::source::runtime, "{}: connected", Device::device_name);
  }

  template <class Job, class Arguments>
  auto start_of(Arguments arguments) {
    return hana::unpack(arguments, [&](auto... d) { return Job::start(device<typename decltype(d)::type>()...); });
  }

  template <class Jobs, class AppArguments>
  asio::awaitable<void> run(Jobs jobs, AppArguments app_arguments) {
    std::string_view connecting;
    try {
      co_await hana::unpack(Devices{}, [&](auto... d) {
        return connect_all<typename decltype(d)::type...>(connecting);
      });
    } catch (const std::exception& e) {
      log::error(log::source::runtime, "{}: cannot connect: {}", connecting, e.what());
      status = exit_boot_failure;
      co_return;
    }
    auto executor = context.executor;
    hana::for_each(jobs, [&](auto job_and_arguments) {
      using job = typename std::remove_cvref_t<decltype(hana::first(job_and_arguments))>::type;
      asio::co_spawn(executor, start_of<job>(hana::second(job_and_arguments)),
                     [](std::exception_ptr e) {
                       if (!e) return;
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                         log::error(log::source::runtime, "init job failed: {}", x.what());
                       }
                     });
    });
    try {
      status = co_await start_of<App>(app_arguments);
    } catch (const std::exception& e) {
      log::error(log::source::runtime, "the application failed: {}", e.what());
      status = exit_app_failure;
    }
  }

  /// Connects the devices in order; each completes before the next starts.
  template <class... Ds>
  asio::awaitable<void> connect_all(std::string_view& connecting) {
    ((connecting = Ds::device_name, co_await connect_one<Ds>()), ...);
  }
};

inline std::string_view base_name(const char* path) {
  std::string_view p = path ? path : "uk";
  const auto slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

}  // namespace detail::run

/// The value of `Key` given on the command line (or its default), like
/// Mirage's Key_gen functions. Throws std::logic_error when `Key` is not a key
/// of this build (declare it in App::keys or a device's keys).
template <class Key>
const typename Key::value_type& key_value() {
  if (detail::run::key_slot<Key> == nullptr)
    throw std::logic_error(fmt::format("uk::key_value: --{} is not a key of this build", Key::name));
  return *detail::run::key_slot<Key>;
}

namespace detail::run {

/// What uk::run boots for App, given the devices on offer and the init
/// jobs (hana tuples of hana::type), computed at compile time.
template <class App, class Available, class Jobs>
struct boot_plan {
  using app_search = decltype(start_arguments<App, int>(Available{}));
  static_assert(decltype(hana::is_just(app_search{}))::value,
                "uk::run: App::start must be a static function returning asio::awaitable<int> whose "
                "parameters (at most 4, any order) are devices of this configuration: its stack "
                "(uk::stack, or uk::udp_stack), its interface (uk::netif, direct configurations), "
                "uk::lifecycle_device, uk::clock, uk::random_source");
  using app_arguments = std::remove_cvref_t<decltype(app_search{}.value())>;

  /// hana pairs (job type, its start arguments).
  static constexpr auto make_jobs() {
    return hana::transform(Jobs{}, [](auto job) {
      using job_type = typename decltype(job)::type;
      using search = decltype(start_arguments<job_type, void>(Available{}));
      static_assert(decltype(hana::is_just(search{}))::value,
                    "uk::run: an init job's start must return asio::awaitable<void> and take devices");
      return hana::make_pair(job, search{}.value());
    });
  }
  using jobs = decltype(make_jobs());

  using devices = decltype(in_dependency_order(hana::concat(
      app_arguments{}, hana::flatten(hana::transform(jobs{}, [](auto p) { return hana::second(p); })))));
  using key_types = decltype(collect_keys<App>(devices{}));
  using key_values = key_values_of<key_types>;
};

}  // namespace detail::run

/// Boots App with the devices `available` offers and the init `jobs` (both
/// hana tuples of hana::type, in dependency order), and returns its exit
/// status. uk::run calls it with the configuration's devices_for and
/// init_for; tests and new targets call it with their own.
template <class App, class Available, class Jobs>
int run_with(Available, Jobs, int argc, char** argv) {
  namespace hana = boost::hana;
  using namespace detail::run;
  using plan = boot_plan<App, Available, Jobs>;
  using devices = typename plan::devices;
  using keys_type = typename plan::key_values;

  const std::string_view program = base_name(argc > 0 ? argv[0] : nullptr);
  auto parsed = hana::unpack(typename plan::key_types{}, [&](auto... k) {
    return parse_keys<typename decltype(k)::type...>(
        program, std::span<const char* const>(argv + (argc > 0 ? 1 : 0), argc > 0 ? argc - 1 : 0));
  });
  if (!parsed) {
    const key_exit e = parsed.error();
    std::FILE* out = e.code == exit_help ? stdout : stderr;
    std::fputs(e.message.c_str(), out);
    if (!e.message.empty() && e.message.back() != '\n') std::fputc('\n', out);
    return e.code;
  }
  const keys_type& keys = *parsed;
  hana::for_each(typename plan::key_types{}, [&](auto k) {
    using key = typename decltype(k)::type;
    key_slot<key> = &keys.template get<key>();
  });
  log::apply(keys.template get<log::logs_key>());
  log::debug(log::source::runtime, "{}: booting", program);

  boot_io_context io;
  boot<App, devices, keys_type> b(device_context{io.get_executor(), program}, keys);
  asio::co_spawn(io, b.run(typename plan::jobs{}, typename plan::app_arguments{}), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        log::error(log::source::runtime, "boot failed: {}", x.what());
      }
      b.status = exit_boot_failure;
    }
    io.stop();
  });
  io.run();
  io.shutdown();  // destroy pending coroutines while the devices they refer to still exist
  return b.status;
}

/// Boots App on the configuration selected at compile time (UK_TARGET,
/// UK_NET) and returns its exit status; see the top of this header.
template <class App>
int run(int argc, char** argv) {
  return run_with<App>(devices_for<selected_target, selected_net>, init_for<selected_target>, argc, argv);
}

}  // namespace uk
