/* lwIP 2.1.3 options for the in-process benchmarks (benchmarks/tcp_compare.cpp):
 * NO_SYS raw API, IPv4 + Ethernet/ARP + TCP + UDP, nothing else, tuned for
 * bulk throughput with checksums computed and verified, as uk's stack runs. */
#ifndef UK_BENCH_LWIPOPTS_H
#define UK_BENCH_LWIPOPTS_H

/* ---- system: one thread, no OS, raw API only ------------------------------ */
#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0
#define LWIP_NETIF_API                  0
#define LWIP_SINGLE_NETIF               1   /* one netif per stack: no route lookup over a list */

/* ---- protocols ---------------------------------------------------------------- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define ETHARP_SUPPORT_STATIC_ENTRIES   1   /* the benchmark pins both neighbours, as uk's does */
#define LWIP_ICMP                       1
#define LWIP_RAW                        0
#define LWIP_TCP                        1
#define LWIP_UDP                        1
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
#define LWIP_DNS                        0
#define IP_REASSEMBLY                   0   /* nothing on the memory link fragments */
#define IP_FRAG                         0

/* ---- checksums: computed on send and verified on receive, in software -------- */
#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_GEN_UDP                1
#define CHECKSUM_GEN_TCP                1
#define CHECKSUM_GEN_ICMP               1
#define CHECKSUM_CHECK_IP               1
#define CHECKSUM_CHECK_UDP              1
#define CHECKSUM_CHECK_TCP              1
#define CHECKSUM_CHECK_ICMP             1
/* tcp_write() sums the payload while it copies it in: one pass over the data, not two. */
#define LWIP_CHECKSUM_ON_COPY           1
/* The 32-bit-at-a-time one's complement sum: the fastest of lwIP's three on x86-64. */
#define LWIP_CHKSUM_ALGORITHM           3

/* ---- TCP: the largest useful windows ------------------------------------------ */
#define TCP_MSS                         1460
/* RFC 7323 window scaling: TCP_WND may reach 0xffff << TCP_RCV_SCALE (scale <= 14).
 * 1 MiB each way, the same buffers uk is given (connection send/receive_buffer);
 * a larger window carries no more on a link with no delay (the sender is
 * bounded by what one deliver() round drains, not by the window). */
#define LWIP_WND_SCALE                  1
#define TCP_RCV_SCALE                   5                     /* 1 MiB >> 5 = 32768 <= 0xffff */
#define TCP_WND                         (1024 * 1024)
#define TCP_SND_BUF                     (1024 * 1024)
/* Segments a connection may queue: init.c requires at least 2 * TCP_SND_BUF / TCP_MSS. */
#define TCP_SND_QUEUELEN                (4 * TCP_SND_BUF / TCP_MSS)
/* Only the writable signal of lwIP's sent callback, which the benchmarks do not use;
 * init.c wants it 4 MSS below 0xffff. */
#define TCP_SNDLOWAT                    (32 * 1024)
#define TCP_SNDQUEUELOWAT               (TCP_SND_QUEUELEN / 2)
#define TCP_OVERSIZE                    TCP_MSS               /* tcp_write fills whole segments */
#define TCP_QUEUE_OOSEQ                 1
#define LWIP_TCP_TIMESTAMPS             0                     /* lwIP's default; one option less per segment */
#define LWIP_TCP_SACK_OUT               0
#define TCP_WND_UPDATE_THRESHOLD        (4 * TCP_MSS)         /* the default for windows this large */
#define LWIP_TCP_KEEPALIVE              0
#define LWIP_CALLBACK_API               1

/* ---- memory: pools sized for a full window in flight each way ------------------- */
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
#define MEM_ALIGNMENT                   8
/* tcp_write copies into PBUF_RAM buffers from the heap: the whole send buffer, with slack. */
#define MEM_SIZE                        (4 * 1024 * 1024)
#define MEMP_NUM_TCP_SEG                TCP_SND_QUEUELEN
#define MEMP_NUM_PBUF                   64
#define MEMP_NUM_TCP_PCB                8
#define MEMP_NUM_TCP_PCB_LISTEN         4
#define MEMP_NUM_UDP_PCB                4
#define MEMP_NUM_REASSDATA              1
#define MEMP_NUM_ARP_QUEUE              16
/* Received frames: one pool pbuf each (PBUF_POOL_BUFSIZE holds a full frame); a
 * whole window of them may sit in the receiver's out-of-sequence queue. */
#define PBUF_POOL_SIZE                  2048
#define ARP_TABLE_SIZE                  4
#define ARP_QUEUEING                    0

/* ---- no statistics, no debug output, no asserts in the measured build ---------- */
#define LWIP_STATS                      0
#define LWIP_STATS_DISPLAY              0
#define LWIP_DEBUG                      0
#define LWIP_NOASSERT                   1
#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0
#define LWIP_NETIF_HOSTNAME             0
#define LWIP_PERF                       0

#endif
