// Every module type of uk, as C++20 concepts.
#pragma once

#include "uk/concepts/arp.hpp"
#include "uk/concepts/clock.hpp"
#include "uk/concepts/ethernet.hpp"
#include "uk/concepts/icmpv4.hpp"
#include "uk/concepts/ipv4.hpp"
#include "uk/concepts/lifecycle.hpp"
#include "uk/concepts/netif.hpp"
#include "uk/concepts/qubes.hpp"
#include "uk/concepts/random.hpp"
#include "uk/concepts/stack.hpp"
#include "uk/concepts/tcp.hpp"
#include "uk/concepts/udp.hpp"
