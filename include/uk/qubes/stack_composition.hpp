// The qubes configuration's stack (see uk/stack_for.hpp): the direct stack
// over the VM's network interface, configured from dom0's QubesDB.
//
//   stack_for<target::qubes, net::direct>
//     = direct::stack<pcap_writer<tap>, qubes::qubesdb_config>
//   qubesdb_config -> qubes::db -> qubes::domains   (the devices it depends on)
//
// uk/stack_for.hpp includes this header only when UK_TARGET=qubes is
// selected, so that unix binaries hold no Qubes code.
#pragma once

#include "uk/direct/stack.hpp"
#include "uk/net/pcap_writer.hpp"
#include "uk/net/tap.hpp"
#include "uk/qubes/qubesdb_config.hpp"
#include "uk/stack_for.hpp"
#include "uk/target.hpp"

namespace uk {

template <>
struct stack_composition<target::qubes, net::direct> {
  /// Hosted, a TAP device stands for the VM's vif (recorded to --pcap when given).
  using netif = net::pcap_writer<net::tap>;
  using type = direct::stack<netif, qubes::qubesdb_config>;
};

}  // namespace uk
