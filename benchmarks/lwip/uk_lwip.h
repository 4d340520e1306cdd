/* The entry table of one lwIP stack built for the benchmarks (uk_lwip_glue.c).
 *
 * lwIP keeps its state in globals, so each stack is its own copy of lwIP:
 * the lwIP sources and the glue are linked into one relocatable object whose
 * only global symbol is its table (uk_lwip_a, uk_lwip_b; see
 * benchmarks/CMakeLists.txt). Everything else goes through the table.
 * One copy is one host: one Ethernet netif, one TCP connection, one UDP port. */
#ifndef UK_BENCH_LWIP_H
#define UK_BENCH_LWIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where to write a frame of `length` bytes that is going on the wire (the
 * payload of a receive buffer of the peer: rx_alloc), or NULL when the link
 * refuses it. The frame is copied there once, as a driver's DMA would. */
typedef void *(*uk_lwip_transmit_fn)(void *context, size_t length);
/* Bytes the connection (or a UDP datagram) delivered, in order. */
typedef void (*uk_lwip_data_fn)(void *context, const void *data, size_t length);

struct uk_lwip_counters {
  uint64_t rx_frames, tx_frames;
  uint64_t rx_dropped_no_pbuf; /* input frames lost: the pbuf pool was empty */
  uint64_t tx_refused;         /* frames the link refused */
  uint64_t udp_received;
  uint64_t tcp_errors;         /* the connection's error callback ran */
};

struct uk_lwip_stack {
  /* lwip_init() and one netif with `ip`/24 and `mac`, up; frames go to `transmit`. */
  int (*create)(const uint8_t ip[4], const uint8_t mac[6], uk_lwip_transmit_fn transmit, void *context);
  /* A permanent ARP entry (as uk's arp::add_static). */
  int (*add_neighbour)(const uint8_t ip[4], const uint8_t mac[6]);
  /* Receive buffers, as a driver fills them: a pool pbuf of `length` bytes in
   * one piece (NULL when the pool is empty or it would not be one piece), its
   * bytes at *payload; rx_input hands it to ethernet_input (which owns it then),
   * rx_free returns it unused. */
  void *(*rx_alloc)(size_t length, void **payload);
  void (*rx_input)(void *buffer);
  void (*rx_free)(void *buffer);
  /* lwIP's clock (sys_now) in ms, and its timers. */
  void (*set_time_ms)(uint32_t now);
  void (*check_timeouts)(void);

  /* TCP: a listener whose first connection becomes this stack's connection,
   * or an active open to ip:port. Received bytes go to `on_data`. */
  int (*tcp_listen)(uint16_t port, uk_lwip_data_fn on_data, void *context);
  int (*tcp_connect)(const uint8_t ip[4], uint16_t port, uk_lwip_data_fn on_data, void *context);
  int (*tcp_established)(void);
  /* Queues up to `length` bytes (copied) and returns how many it took; nagle off. */
  size_t (*tcp_send)(const void *data, size_t length);
  /* Sends what is queued and may go (tcp_output). */
  void (*tcp_flush)(void);
  void (*tcp_close)(void);

  /* UDP: one bound port; datagrams go to `on_datagram`. */
  int (*udp_bind)(uint16_t port, uk_lwip_data_fn on_datagram, void *context);
  int (*udp_send)(uint16_t from_port, const uint8_t ip[4], uint16_t port, const void *data, size_t length);

  void (*counters)(struct uk_lwip_counters *out);
};

extern const struct uk_lwip_stack uk_lwip_a;
extern const struct uk_lwip_stack uk_lwip_b;

#ifdef __cplusplus
}
#endif

#endif
