// uk's network interfaces, all uk::netif (uk/concepts/netif.hpp):
//   tap              a Linux TAP device on the Asio loop            uk/net/tap.hpp
//   memory_link      two netifs joined in memory, on virtual time   uk/net/memory_link.hpp
//   pcap_writer<N>   records N's frames in a pcap file              uk/net/pcap_writer.hpp
//   fault_injector<N> drops, duplicates, reorders, damages, limits  uk/net/fault_injector.hpp
// Only tap includes Asio; include the others alone to stay free of it.
//
// Decorators stack in the order they are written: pcap_writer<fault_injector<tap>>
// records what the stack sends and receives, fault_injector<pcap_writer<tap>>
// what the wire carries.
#pragma once

#include "uk/concepts/netif.hpp"
#include "uk/net/fault_injector.hpp"
#include "uk/net/memory_link.hpp"
#include "uk/net/pcap_writer.hpp"
#include "uk/net/tap.hpp"
