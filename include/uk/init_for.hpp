// uk::init_for<Target>: the jobs a target starts before the application, as
// Mirage's `register ~init:[...]` (qrexec and GUI agents on Qubes, `noop`
// elsewhere).
//
// It is a Boost.Hana tuple of job types (hana::type<Job>). A job is started
// like an application: uk::run connects the devices its static `start`
// asks for and co_spawns it before the application's start. On every
// target but Qubes the tuple is empty, so a unix binary holds no Qubes code.
#pragma once

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include "uk/target.hpp"

namespace uk {

/// The boot-time jobs of `Target`. Empty unless a target's header specialises it.
template <target_tag Target>
inline constexpr auto init_for = boost::hana::tuple_t<>;

}  // namespace uk
