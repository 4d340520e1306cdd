/* One lwIP 2.1.3 host (NO_SYS raw API) behind an entry table; see uk_lwip.h.
 * Compiled with -DUK_LWIP_ENTRY=<table name>, once per copy of lwIP. */
#include "uk_lwip.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"

#ifndef UK_LWIP_ENTRY
#error "define UK_LWIP_ENTRY to the name of this copy's entry table"
#endif

static u32_t now_ms;
static struct netif host_netif;
static uk_lwip_transmit_fn transmit_fn;
static void *transmit_context;
static struct tcp_pcb *listener;
static struct tcp_pcb *connection;
static int established;
static uk_lwip_data_fn tcp_data_fn;
static void *tcp_data_context;
static struct udp_pcb *udp;
static uk_lwip_data_fn udp_data_fn;
static void *udp_data_context;
static struct uk_lwip_counters counts;

/* NO_SYS: lwIP's only clock. */
u32_t sys_now(void) { return now_ms; }

static void ip_from(ip4_addr_t *out, const uint8_t ip[4]) { IP4_ADDR(out, ip[0], ip[1], ip[2], ip[3]); }

static err_t link_output(struct netif *netif, struct pbuf *p) {
  (void)netif;
  void *frame = transmit_fn(transmit_context, p->tot_len);
  if (frame == NULL) {
    ++counts.tx_refused;
    return ERR_IF;
  }
  pbuf_copy_partial(p, frame, p->tot_len, 0);
  ++counts.tx_frames;
  return ERR_OK;
}

static err_t netif_setup(struct netif *netif) {
  netif->name[0] = 'u';
  netif->name[1] = 'k';
  netif->mtu = 1500;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  netif->output = etharp_output;
  netif->linkoutput = link_output;
  return ERR_OK;
}

static int create(const uint8_t ip[4], const uint8_t mac[6], uk_lwip_transmit_fn transmit, void *context) {
  lwip_init();
  transmit_fn = transmit;
  transmit_context = context;
  ip4_addr_t address, netmask, gateway;
  ip_from(&address, ip);
  IP4_ADDR(&netmask, 255, 255, 255, 0);
  ip4_addr_set_zero(&gateway);
  memcpy(host_netif.hwaddr, mac, 6);
  if (netif_add(&host_netif, &address, &netmask, &gateway, NULL, netif_setup, ethernet_input) == NULL) return 0;
  netif_set_default(&host_netif);
  netif_set_up(&host_netif);
  netif_set_link_up(&host_netif);
  return 1;
}

static int add_neighbour(const uint8_t ip[4], const uint8_t mac[6]) {
  ip4_addr_t address;
  ip_from(&address, ip);
  struct eth_addr hw;
  memcpy(hw.addr, mac, 6);
  return etharp_add_static_entry(&address, &hw) == ERR_OK;
}

static void *rx_alloc(size_t length, void **payload) {
  if (length > 0xffff) return NULL;
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)length, PBUF_POOL);
  if (p == NULL) {
    ++counts.rx_dropped_no_pbuf;
    return NULL;
  }
  if (p->next != NULL) {  /* larger than PBUF_POOL_BUFSIZE: not one piece */
    pbuf_free(p);
    return NULL;
  }
  *payload = p->payload;
  return p;
}

static void rx_input(void *buffer) {
  struct pbuf *p = buffer;
  ++counts.rx_frames;
  if (host_netif.input(p, &host_netif) != ERR_OK) pbuf_free(p);
}

static void rx_free(void *buffer) { pbuf_free(buffer); }

static void set_time_ms(uint32_t now) { now_ms = now; }
static void check_timeouts(void) { sys_check_timeouts(); }

/* ---- TCP ------------------------------------------------------------------------ */

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  (void)arg;
  if (p == NULL || err != ERR_OK) {  /* the peer closed */
    if (p) pbuf_free(p);
    return ERR_OK;
  }
  for (struct pbuf *q = p; q != NULL; q = q->next) tcp_data_fn(tcp_data_context, q->payload, q->len);
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void on_tcp_error(void *arg, err_t err) {
  (void)arg;
  (void)err;
  ++counts.tcp_errors;
  connection = NULL;
  established = 0;
}

static void adopt(struct tcp_pcb *pcb) {
  connection = pcb;
  established = 1;
  tcp_nagle_disable(pcb);
  tcp_recv(pcb, on_tcp_recv);
  tcp_err(pcb, on_tcp_error);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK || pcb == NULL || connection != NULL) return ERR_VAL;
  adopt(pcb);
  return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK) return err;
  adopt(pcb);
  return ERR_OK;
}

static int tcp_listen_on(uint16_t port, uk_lwip_data_fn on_data, void *context) {
  tcp_data_fn = on_data;
  tcp_data_context = context;
  struct tcp_pcb *pcb = tcp_new();
  if (pcb == NULL) return 0;
  if (tcp_bind(pcb, IP4_ADDR_ANY, port) != ERR_OK) {
    tcp_close(pcb);
    return 0;
  }
  listener = tcp_listen(pcb);
  if (listener == NULL) return 0;
  tcp_accept(listener, on_accept);
  return 1;
}

static int tcp_connect_to(const uint8_t ip[4], uint16_t port, uk_lwip_data_fn on_data, void *context) {
  tcp_data_fn = on_data;
  tcp_data_context = context;
  struct tcp_pcb *pcb = tcp_new();
  if (pcb == NULL) return 0;
  ip_addr_t to;
  ip_from(ip_2_ip4(&to), ip);
  tcp_err(pcb, on_tcp_error);
  return tcp_connect(pcb, &to, port, on_connected) == ERR_OK;
}

static int tcp_is_established(void) { return established; }

static size_t tcp_send(const void *data, size_t length) {
  if (connection == NULL) return 0;
  size_t room = tcp_sndbuf(connection);
  if (length > room) length = room;
  if (length > 0xffff) length = 0xffff;  /* tcp_write takes a u16_t length */
  if (length == 0 || tcp_sndqueuelen(connection) >= TCP_SND_QUEUELEN - 2) return 0;
  if (tcp_write(connection, data, (u16_t)length, TCP_WRITE_FLAG_COPY) != ERR_OK) return 0;
  return length;
}

static void tcp_flush(void) {
  if (connection != NULL) tcp_output(connection);
}

static void tcp_close_connection(void) {
  if (connection != NULL) {
    tcp_arg(connection, NULL);
    tcp_recv(connection, NULL);
    tcp_err(connection, NULL);
    if (tcp_close(connection) != ERR_OK) tcp_abort(connection);
    connection = NULL;
    established = 0;
  }
  if (listener != NULL) {
    tcp_close(listener);
    listener = NULL;
  }
}

/* ---- UDP ------------------------------------------------------------------------ */

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
  (void)arg;
  (void)pcb;
  (void)addr;
  (void)port;
  ++counts.udp_received;
  if (p->next == NULL) {
    udp_data_fn(udp_data_context, p->payload, p->len);
  } else {
    for (struct pbuf *q = p; q != NULL; q = q->next) udp_data_fn(udp_data_context, q->payload, q->len);
  }
  pbuf_free(p);
}

static int udp_bind_to(uint16_t port, uk_lwip_data_fn on_datagram, void *context) {
  udp_data_fn = on_datagram;
  udp_data_context = context;
  udp = udp_new();
  if (udp == NULL) return 0;
  if (udp_bind(udp, IP4_ADDR_ANY, port) != ERR_OK) return 0;
  udp_recv(udp, on_udp_recv, NULL);
  return 1;
}

static int udp_send_to(uint16_t from_port, const uint8_t ip[4], uint16_t port, const void *data, size_t length) {
  if (udp == NULL) {
    udp = udp_new();
    if (udp == NULL || udp_bind(udp, IP4_ADDR_ANY, from_port) != ERR_OK) return 0;
  }
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)length, PBUF_RAM);
  if (p == NULL) return 0;
  memcpy(p->payload, data, length);
  ip_addr_t to;
  ip_from(ip_2_ip4(&to), ip);
  const err_t err = udp_sendto(udp, p, &to, port);
  pbuf_free(p);
  return err == ERR_OK;
}

static void get_counters(struct uk_lwip_counters *out) { *out = counts; }

const struct uk_lwip_stack UK_LWIP_ENTRY = {
    .create = create,
    .add_neighbour = add_neighbour,
    .rx_alloc = rx_alloc,
    .rx_input = rx_input,
    .rx_free = rx_free,
    .set_time_ms = set_time_ms,
    .check_timeouts = check_timeouts,
    .tcp_listen = tcp_listen_on,
    .tcp_connect = tcp_connect_to,
    .tcp_established = tcp_is_established,
    .tcp_send = tcp_send,
    .tcp_flush = tcp_flush,
    .tcp_close = tcp_close_connection,
    .udp_bind = udp_bind_to,
    .udp_send = udp_send_to,
    .counters = get_counters,
};
