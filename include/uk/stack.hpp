// The umbrella header of uk: targets, concepts, stack_for, init_for, devices and run.
#pragma once

#include "uk/addr.hpp"
#include "uk/asio.hpp"
#include "uk/concepts.hpp"
#include "uk/init_for.hpp"
#include "uk/keys.hpp"
#include "uk/log.hpp"
#include "uk/runtime/clock.hpp"
#include "uk/runtime/device.hpp"
#include "uk/runtime/devices.hpp"
#include "uk/runtime/lifecycle.hpp"
#include "uk/runtime/random.hpp"
#include "uk/runtime/run.hpp"
#include "uk/stack_for.hpp"
#include "uk/target.hpp"
