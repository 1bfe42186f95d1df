/*
 * Native per-packet load generator for `npm run bench:compare` (QoS 1/2
 * publishers into subscribers, as fast as the in-flight window allows).
 *
 * It behaves like the client libraries people run (libmosquitto, Paho,
 * MQTT.js): every QoS 1/2 PUBLISH and every acknowledgement is its own
 * write(); reads take whatever the socket holds. Sockets are TCP_NODELAY (every
 * write its own segment) unless SOCKETS is "nagle": Nagle's algorithm left on,
 * as those libraries leave it by default.
 * It exists because the Node generator spends ~10 µs of its core per QoS 1
 * message in Node's stream layer, which on a 2-core machine caps every broker
 * near 100k msg/s; this one pays little more than the syscalls themselves.
 *
 * Usage: loadgen PORT PUBS QOS PUB_TOPIC SUB_TOPIC SUBS INFLIGHT SIZE
 *                WARMUP_S DURATION_S CLIENT_ID_PREFIX [SOCKETS]
 * PUB_TOPIC may hold %i (publisher number). Prints the run's summary as one
 * JSON line on stdout, the same fields as the Node generator's BenchResult.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF (256 * 1024)
/* Latency histogram: 10 µs buckets up to 10 s; later samples go in the last one. */
#define LAT_BUCKETS 1000000
#define LAT_STEP_MS 0.01

struct conn {
  int fd;
  int is_pub;
  int index;
  /* Unparsed bytes of the stream (a packet split across reads). */
  unsigned char *in;
  size_t in_len;
  /* Bytes a full socket did not take yet; written before anything new. */
  unsigned char *out;
  size_t out_len, out_cap;
  int want_out;
  /* Publisher state. */
  unsigned char *tpl;
  size_t tpl_len, id_off, time_off;
  unsigned next_id;
  int inflight;
  long long sent;
};

static struct conn *conns;
static int nconns, npubs, nsubs, qos, window, payload_size;
static int epfd;
static int publishing;
static long long sent, acked, received, acked_total, received_total;
static uint32_t *lat;
static long long lat_count;
static double lat_sum, lat_max;
static long long errors_closed, errors_socket, errors_protocol;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Queues bytes behind a full socket and asks to be told when it has room. */
static void keep(struct conn *c, const unsigned char *p, size_t n) {
  if (c->out_len + n > c->out_cap) {
    c->out_cap = (c->out_len + n) * 2;
    c->out = realloc(c->out, c->out_cap);
    if (c->out == NULL) die("realloc");
  }
  memcpy(c->out + c->out_len, p, n);
  c->out_len += n;
  if (!c->want_out) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = 1;
  }
}

/* One packet, one write(): the point of this generator. */
static void send_packet(struct conn *c, const unsigned char *p, size_t n) {
  if (c->out_len > 0) {
    keep(c, p, n);
    return;
  }
  ssize_t w = write(c->fd, p, n);
  if (w == (ssize_t)n) return;
  if (w < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      errors_socket++;
      return;
    }
    w = 0;
  }
  keep(c, p + w, n - (size_t)w);
}

static void flush_out(struct conn *c) {
  while (c->out_len > 0) {
    ssize_t w = write(c->fd, c->out, c->out_len);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      errors_socket++;
      c->out_len = 0;
      break;
    }
    memmove(c->out, c->out + w, c->out_len - (size_t)w);
    c->out_len -= (size_t)w;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = 0;
}

static void send_ack(struct conn *c, unsigned char type, unsigned id) {
  unsigned char p[4] = {type, 2, (unsigned char)(id >> 8), (unsigned char)id};
  send_packet(c, p, 4);
}

/* Fills the publisher's in-flight window, one write() per PUBLISH. */
static void top_up(struct conn *c) {
  if (!publishing) return;
  double t = now_ms();
  while (c->inflight < window) {
    if (c->time_off > 0) memcpy(c->tpl + c->time_off, &t, sizeof t);
    c->tpl[c->id_off] = (unsigned char)(c->next_id >> 8);
    c->tpl[c->id_off + 1] = (unsigned char)c->next_id;
    c->next_id = c->next_id == 65535 ? 1 : c->next_id + 1;
    send_packet(c, c->tpl, c->tpl_len);
    c->inflight++;
    c->sent++;
    sent++;
  }
}

static void record_latency(const unsigned char *payload, size_t n) {
  if (n < 8) return;
  double t0;
  memcpy(&t0, payload, sizeof t0);
  double d = now_ms() - t0;
  if (!(d >= 0 && d < 3600000)) return;
  long b = (long)(d / LAT_STEP_MS);
  if (b >= LAT_BUCKETS) b = LAT_BUCKETS - 1;
  lat[b]++;
  lat_count++;
  lat_sum += d;
  if (d > lat_max) lat_max = d;
}

static double lat_percentile(double p) {
  if (lat_count == 0) return 0;
  long long want = (long long)(lat_count * p / 100.0);
  if (want < 1) want = 1;
  long long seen = 0;
  for (long b = 0; b < LAT_BUCKETS; b++) {
    seen += lat[b];
    if (seen >= want) return (b + 1) * LAT_STEP_MS;
  }
  return lat_max;
}

/* Handles one complete packet; `body` is after the fixed header. */
static void on_packet(struct conn *c, unsigned char first, const unsigned char *body, size_t len) {
  unsigned type = first >> 4;
  unsigned id = len >= 2 ? (unsigned)body[0] << 8 | body[1] : 0;
  switch (type) {
  case 3: { /* PUBLISH to a subscriber */
    if (len < 2) {
      errors_protocol++;
      return;
    }
    received++;
    received_total++;
    unsigned pq = (first >> 1) & 3;
    size_t tlen = (size_t)body[0] << 8 | body[1];
    size_t at = 2 + tlen;
    unsigned pid = 0;
    if (pq > 0) {
      pid = (unsigned)body[at] << 8 | body[at + 1];
      at += 2;
    }
    if (at <= len) record_latency(body + at, len - at);
    if (pq == 1) send_ack(c, 0x40, pid);
    else if (pq == 2) send_ack(c, 0x50, pid);
    return;
  }
  case 4:  /* PUBACK */
  case 7:  /* PUBCOMP */
    acked++;
    acked_total++;
    c->inflight--;
    top_up(c);
    return;
  case 5: /* PUBREC */
    send_ack(c, 0x62, id);
    return;
  case 6: /* PUBREL */
    send_ack(c, 0x70, id);
    return;
  case 13: /* PINGRESP */
    return;
  default:
    errors_protocol++;
    return;
  }
}

/* Parses every complete packet in the connection's buffer, keeps the rest. */
static void parse(struct conn *c) {
  size_t at = 0;
  while (c->in_len - at >= 2) {
    size_t len = 0, mul = 1, h = 1;
    int complete = 0;
    while (at + h < c->in_len && h <= 4) {
      unsigned char b = c->in[at + h];
      len += (b & 127) * mul;
      mul *= 128;
      h++;
      if (!(b & 128)) {
        complete = 1;
        break;
      }
    }
    if (!complete || c->in_len - at - h < len) break;
    on_packet(c, c->in[at], c->in + at + h, len);
    at += h + len;
  }
  if (at > 0) {
    memmove(c->in, c->in + at, c->in_len - at);
    c->in_len -= at;
  }
}

static void on_readable(struct conn *c) {
  for (;;) {
    if (c->in_len == READ_BUF) {
      errors_protocol++;
      c->in_len = 0;
    }
    size_t room = READ_BUF - c->in_len;
    ssize_t r = read(c->fd, c->in + c->in_len, room);
    if (r > 0) {
      c->in_len += (size_t)r;
      parse(c);
      /* A short read emptied the socket: back to epoll rather than a failing read(). */
      if ((size_t)r < room) return;
      continue;
    }
    if (r == 0) {
      errors_closed++;
      epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
      return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    errors_socket++;
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    return;
  }
}

static size_t put_str(unsigned char *p, const char *s) {
  size_t n = strlen(s);
  p[0] = (unsigned char)(n >> 8);
  p[1] = (unsigned char)n;
  memcpy(p + 2, s, n);
  return n + 2;
}

static size_t put_len(unsigned char *p, size_t n) {
  size_t i = 0;
  do {
    unsigned char b = n % 128;
    n /= 128;
    p[i++] = n > 0 ? b | 128 : b;
  } while (n > 0);
  return i;
}

/* Reads exactly one packet during set-up (blocking socket); returns its type. */
static int read_reply(int fd) {
  unsigned char b[8];
  if (read(fd, b, 2) != 2) die("set-up read");
  int type = b[0] >> 4;
  size_t n = b[1];
  if (n > sizeof b) return -1;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, b + got, n - got);
    if (r <= 0) die("set-up read");
    got += (size_t)r;
  }
  return type;
}

static void write_all(int fd, const unsigned char *p, size_t n) {
  if (write(fd, p, n) != (ssize_t)n) die("set-up write");
}

static long long attempted, connected_count, failed_count;
static int nagle;

/* Connects and sends CONNECT (clean session, keep alive 60 s), waits for CONNACK. */
static int open_client(int port, const char *id) {
  attempted++;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  int one = 1;
  if (!nagle) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  unsigned char body[512], pkt[520];
  size_t n = put_str(body, "MQTT");
  body[n++] = 4;    /* 3.1.1 */
  body[n++] = 0x02; /* clean session */
  body[n++] = 0;
  body[n++] = 60;
  n += put_str(body + n, id);
  pkt[0] = 0x10;
  size_t h = 1 + put_len(pkt + 1, n);
  memcpy(pkt + h, body, n);
  write_all(fd, pkt, h + n);
  unsigned char ack[4];
  size_t got = 0;
  while (got < 4) {
    ssize_t r = read(fd, ack + got, 4 - got);
    if (r <= 0) die("CONNACK");
    got += (size_t)r;
  }
  if (ack[0] != 0x20 || ack[3] != 0) {
    failed_count++;
    fprintf(stderr, "loadgen: connect refused (%u)\n", ack[3]);
    exit(1);
  }
  connected_count++;
  return fd;
}

static void expand(char *out, size_t cap, const char *pattern, int index) {
  const char *p = strstr(pattern, "%i");
  if (p == NULL) {
    snprintf(out, cap, "%s", pattern);
    return;
  }
  snprintf(out, cap, "%.*s%d%s", (int)(p - pattern), pattern, index, p + 2);
}

static void add_to_epoll(struct conn *c) {
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

/* Runs the event loop until `until_ms`, or until `done()` says so. */
static void loop_until(double until_ms, int (*done)(void)) {
  struct epoll_event evs[64];
  for (;;) {
    double left = until_ms - now_ms();
    if (left <= 0 || (done != NULL && done())) return;
    int n = epoll_wait(epfd, evs, 64, left > 20 ? 20 : (int)left + 1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (evs[i].events & EPOLLOUT) flush_out(c);
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
    }
  }
}

static long long settle_last = -1;
static double settle_quiet_since;

/* Settled: every publish answered and everything acknowledged delivered, or a second of silence. */
static int settled(void) {
  int answered = 1;
  for (int i = 0; i < npubs; i++)
    if (conns[i].inflight > 0) answered = 0;
  if (received_total >= acked_total * nsubs && answered) return 1;
  if (received_total != settle_last) {
    settle_last = received_total;
    settle_quiet_since = now_ms();
    return 0;
  }
  return now_ms() - settle_quiet_since > 1000;
}

int main(int argc, char **argv) {
  if (argc != 12 && !(argc == 13 && (strcmp(argv[12], "nagle") == 0 ||
                                      strcmp(argv[12], "nodelay") == 0))) {
    fprintf(stderr,
            "usage: loadgen PORT PUBS QOS PUB_TOPIC SUB_TOPIC SUBS INFLIGHT SIZE WARMUP_S "
            "DURATION_S CLIENT_ID_PREFIX [nodelay|nagle]\n");
    return 2;
  }
  nagle = argc == 13 && strcmp(argv[12], "nagle") == 0;
  int port = atoi(argv[1]);
  npubs = atoi(argv[2]);
  qos = atoi(argv[3]);
  const char *pub_topic = argv[4], *sub_topic = argv[5];
  nsubs = atoi(argv[6]);
  window = atoi(argv[7]);
  payload_size = atoi(argv[8]);
  double warmup = atof(argv[9]), duration = atof(argv[10]);
  const char *prefix = argv[11];
  if (qos < 1 || qos > 2 || npubs < 1 || nsubs < 0 || window < 1 || payload_size < 0) {
    fprintf(stderr, "loadgen: QoS 1/2 publishers only\n");
    return 2;
  }
  /* A broker that closed a connection must show up as an error count, not kill the run. */
  signal(SIGPIPE, SIG_IGN);
  lat = calloc(LAT_BUCKETS, sizeof *lat);
  nconns = npubs + nsubs;
  conns = calloc((size_t)nconns, sizeof *conns);
  epfd = epoll_create1(0);
  if (lat == NULL || conns == NULL || epfd < 0) die("set-up");
  double first_attempt = now_ms(), last_connack = 0;
  char id[256], topic[256];
  unsigned char pkt[600];
  /* Subscribers first, each subscribed before the publishers start (as the Node generator). */
  for (int i = 0; i < nsubs; i++) {
    struct conn *c = &conns[npubs + i];
    snprintf(id, sizeof id, "%ss%d", prefix, i);
    c->fd = open_client(port, id);
    last_connack = now_ms();
    c->index = i;
    size_t n = 0;
    unsigned char body[300];
    body[n++] = 0;
    body[n++] = 1;
    n += put_str(body + n, sub_topic);
    body[n++] = (unsigned char)qos;
    pkt[0] = 0x82;
    size_t h = 1 + put_len(pkt + 1, n);
    memcpy(pkt + h, body, n);
    write_all(c->fd, pkt, h + n);
    if (read_reply(c->fd) != 9) {
      fprintf(stderr, "loadgen: no SUBACK\n");
      return 1;
    }
  }
  for (int i = 0; i < npubs; i++) {
    struct conn *c = &conns[i];
    snprintf(id, sizeof id, "%sp%d", prefix, i);
    c->fd = open_client(port, id);
    last_connack = now_ms();
    c->is_pub = 1;
    c->index = i;
    c->next_id = 1;
    /* The PUBLISH this publisher repeats: topic, packet id, payload (send time first). */
    expand(topic, sizeof topic, pub_topic, i);
    size_t tl = strlen(topic), rem = 2 + tl + 2 + (size_t)payload_size;
    unsigned char hdr[5];
    size_t hl = put_len(hdr, rem);
    c->tpl_len = 1 + hl + rem;
    c->tpl = malloc(c->tpl_len);
    if (c->tpl == NULL) die("malloc");
    c->tpl[0] = (unsigned char)(0x30 | qos << 1);
    memcpy(c->tpl + 1, hdr, hl);
    size_t at = 1 + hl + put_str(c->tpl + 1 + hl, topic);
    c->id_off = at;
    at += 2;
    memset(c->tpl + at, 'a', (size_t)payload_size);
    c->time_off = payload_size >= 8 ? at : 0;
  }
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    c->in = malloc(READ_BUF);
    if (c->in == NULL) die("malloc");
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0) die("nonblock");
    add_to_epoll(c);
  }
  fprintf(stderr, "event: publishing\n");
  publishing = 1;
  for (int i = 0; i < npubs; i++) top_up(&conns[i]);
  double start = now_ms();
  if (warmup > 0) {
    loop_until(start + warmup * 1000, NULL);
    start = now_ms();
    sent = acked = received = 0;
    memset(lat, 0, LAT_BUCKETS * sizeof *lat);
    lat_count = 0;
    lat_sum = lat_max = 0;
  }
  loop_until(start + duration * 1000, NULL);
  double seconds = (now_ms() - start) / 1000;
  publishing = 0;
  long long r_sent = sent, r_acked = acked, r_received = received;
  double p50 = lat_percentile(50), p90 = lat_percentile(90), p99 = lat_percentile(99);
  double mean = lat_count > 0 ? lat_sum / lat_count : 0;
  settle_quiet_since = now_ms();
  if (nsubs > 0) loop_until(now_ms() + 10000, settled);
  /* DISCONNECT, so that brokers do not count these as lost connections. */
  for (int i = 0; i < nconns; i++) {
    unsigned char d[2] = {0xe0, 0};
    if (write(conns[i].fd, d, 2) < 0) errors_socket++;
    close(conns[i].fd);
  }
  double setup = last_connack > 0 ? (last_connack - first_attempt) / 1000 : 0;
  double s = seconds > 0 ? seconds : 1;
  printf("{\"seconds\":%.6f,\"writes\":\"packet\",\"sent\":%lld,\"acked\":%lld,\"received\":%lld,",
         seconds, r_sent, r_acked, r_received);
  if (nsubs > 0)
    printf("\"settled\":{\"acked\":%lld,\"received\":%lld},", acked_total * nsubs, received_total);
  printf("\"sentPerSecond\":%.3f,\"receivedPerSecond\":%.3f,", r_sent / s, r_received / s);
  printf("\"latency\":{\"count\":%lld,\"mean\":%.4f,\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,"
         "\"max\":%.4f},",
         lat_count, mean, p50, p90, p99, lat_max);
  printf("\"connections\":{\"attempted\":%lld,\"connected\":%lld,\"failed\":%lld,\"held\":%lld,"
         "\"perSecond\":%.3f,\"setupSeconds\":%.6f},",
         attempted, connected_count, failed_count, connected_count,
         setup > 0 ? connected_count / setup : 0, setup);
  printf("\"ping\":{\"count\":0,\"p99\":0,\"max\":0},\"errors\":{");
  const char *sep = "";
  if (errors_closed > 0) {
    printf("\"connection closed\":%lld", errors_closed);
    sep = ",";
  }
  if (errors_socket > 0) {
    printf("%s\"socket error\":%lld", sep, errors_socket);
    sep = ",";
  }
  if (errors_protocol > 0) printf("%s\"protocol\":%lld", sep, errors_protocol);
  printf("}}\n");
  return 0;
}
