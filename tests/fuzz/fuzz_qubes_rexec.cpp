// libFuzzer target for the qrexec message parsers (uk/wire/qubes_rexec.hpp)
// and the agent's two cores (uk/qubes/rexec_control.hpp, rexec_data.hpp).
//
// Input: byte 0 picks what reads the rest: 0 the control core, 1 the data
// core as a service, 2 as a caller, 3 every body parser on the whole rest.
// Checks that nothing reads outside the input, that a parsed message
// re-emits to the same bytes, and that the cores never buffer more than one
// message's bound plus the input.
#include <uk/qubes/rexec_control.hpp>
#include <uk/qubes/rexec_data.hpp>
#include <uk/wire/qubes_rexec.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace rexec = uk::wire::qubes_rexec;

namespace {
void expect(bool ok) {
  if (!ok) std::abort();
}

void parsers(const std::vector<std::byte>& body) {
  if (const auto p = rexec::parse_exec_params(body)) {
    std::vector<std::byte> out(rexec::exec_message_length(p->cmdline));
    rexec::emit_exec(out, rexec::message_type::exec_cmdline, p->connect_domain, p->connect_port, p->cmdline);
    expect(std::equal(body.begin(), body.end(), out.begin() + rexec::header_length));
    if (const auto line = rexec::parse_command_line(p->cmdline)) {
      expect(line->user.size() + line->command.size() < p->cmdline.size());
      if (const auto call = rexec::parse_rpc_call(line->command))
        expect(!call->service.empty() && !call->source.empty());
    }
  }
  if (const auto c = rexec::parse_service_connect(body)) expect(c->ident.size() < rexec::ident_length);
  if (const auto r = rexec::parse_service_refused(body)) expect(r->size() < rexec::ident_length);
  for (auto t : {rexec::message_type::trigger_service, rexec::message_type::trigger_service3,
                 rexec::message_type::trigger_service4}) {
    const auto r = rexec::parse_trigger(t, body);
    if (!r) continue;
    const std::uint32_t v = t == rexec::message_type::trigger_service ? 2 : t == rexec::message_type::trigger_service3 ? 3 : 4;
    if (!rexec::trigger_fits(v, *r)) continue;
    std::vector<std::byte> out(rexec::trigger_message_length(v, r->service.size()));
    rexec::emit_trigger(out, v, *r);
    const auto again = rexec::parse_trigger(t, std::span<const std::byte>(out).subspan(rexec::header_length));
    expect(again && again->service == r->service && again->request_id == r->request_id &&
           again->target_domain == r->target_domain && again->source_domain == r->source_domain);
  }
  (void)rexec::parse_hello(body);
  (void)rexec::parse_exit_code(body);
  (void)rexec::parse_connection_terminated(body);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto* p = reinterpret_cast<const std::byte*>(data);
  const std::vector<std::byte> rest(p + 1, p + size);  // heap copy: ASan sees any overread
  const std::span<const std::byte> input(rest);
  switch (data[0] % 4) {
    case 0: {
      uk::qubes::rexec_control c;
      c.start();
      // In two pieces, to split messages somewhere.
      const std::size_t cut = input.size() / 2;
      for (auto piece : {input.first(cut), input.subspan(cut)}) {
        c.receive(piece);
        for (;;) {
          auto e = c.next_event();
          if (!e || !e->has_value()) break;
          if (c.version()) (void)c.trigger_service("@adminvm", "test.Echo+a");
        }
        if (!c.next_event()) break;
      }
      break;
    }
    case 1:
    case 2: {
      uk::qubes::rexec_data d(data[0] % 4 == 1 ? uk::qubes::rexec_data_role::service
                                               : uk::qubes::rexec_data_role::caller);
      d.start();
      d.receive(input);
      for (;;) {
        auto e = d.next_event();
        if (!e || !e->has_value()) break;
        expect((*e)->bytes.size() <= rexec::max_data_chunk_v3);
      }
      d.send_stdout(input);
      d.send_exit_code(0);
      break;
    }
    default: parsers(rest); break;
  }
  return 0;
}
