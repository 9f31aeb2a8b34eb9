/* examples/plugin/seqpacket_plugin.c — a complete ipcmark transport plugin, in C.
 *
 * The transport: one Unix-domain socket of type SOCK_SEQPACKET per channel. The kernel keeps
 * message boundaries and order, blocks (or says EAGAIN) when the receiver's queue is full, and
 * reports a peer that died as end-of-file: most of the contract in <ipcmark/plugin.h> for free.
 * What is left to write is the naming (a socket file in the runtime directory ipcmark gives us),
 * the deadlines (poll), and turning errno into ipcmark's statuses with a one-line message.
 *
 * Build it against an installed ipcmark (see CMakeLists.txt), then check it:
 *     ipcmark conform --transports seqpacket --plugin ./libipcmark_seqpacket.so
 */
#define _GNU_SOURCE /* accept4, SOCK_CLOEXEC */
#include <ipcmark/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Well under the default socket buffer (about 208 KiB): a SOCK_SEQPACKET message must fit in it. */
#define MAX_MESSAGE (64 * 1024)

/* One side of a channel. The server starts with a listening socket and swaps it for the connected
 * one in accept(); it also owns the socket file, which close() removes. */
struct ipcmark_connection {
  int fd;       /* the connected socket, or -1 until the server has accepted */
  int listener; /* the server's listening socket, or -1 */
  char path[sizeof(((struct sockaddr_un*)0)->sun_path)]; /* the server's socket file; "" on the client */
};

/* Fills in the one-line message and returns `status`, so that `return fail(...)` reads well. */
static ipcmark_status fail(ipcmark_error* error, ipcmark_status status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(error->message, sizeof error->message, format, args);
  va_end(args);
  return status;
}

/* "<runtime_dir>/<channel>.seqpacket": the name starts with the channel's, as ipcmark's clean
 * and leftover checks expect. Returns 0, or -1 if it does not fit a socket address. */
static int socket_address(const char* runtime_dir, const char* channel, struct sockaddr_un* address) {
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  const int n = snprintf(address->sun_path, sizeof address->sun_path, "%s/%s.seqpacket", runtime_dir, channel);
  return n > 0 && (size_t)n < sizeof address->sun_path ? 0 : -1;
}

/* Milliseconds from now until the deadline (CLOCK_MONOTONIC ns), rounded up; 0 once it passed. */
static int ms_until(ipcmark_deadline_ns deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t left = deadline - ((int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
  if (left <= 0) return 0;
  const int64_t ms = (left + 999999) / 1000000;
  return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Waits until `fd` is ready for `events` (or hung up: the next call then says why). */
static ipcmark_status wait_for(int fd, short events, ipcmark_deadline_ns deadline, ipcmark_error* error) {
  for (;;) {
    const int ms = ms_until(deadline);
    struct pollfd p = {.fd = fd, .events = events};
    const int ready = poll(&p, 1, ms);
    if (ready > 0) return IPCMARK_OK;
    if (ready == 0 && ms == 0) return fail(error, IPCMARK_TIMEOUT, "seqpacket: the deadline passed");
    if (ready < 0 && errno != EINTR) return fail(error, IPCMARK_SYSTEM, "seqpacket: poll: %s", strerror(errno));
  }
}

static ipcmark_connection* new_connection(int fd, int listener, const char* path) {
  ipcmark_connection* c = malloc(sizeof *c);
  if (c == NULL) return NULL;
  c->fd = fd;
  c->listener = listener;
  snprintf(c->path, sizeof c->path, "%s", path);
  return c;
}

/* ---- the functions of the descriptor ---- */

static ipcmark_status serve(const ipcmark_channel_config* config, ipcmark_connection** out, ipcmark_error* error) {
  struct sockaddr_un address;
  if (socket_address(config->runtime_dir, config->channel, &address) != 0)
    return fail(error, IPCMARK_INVALID_ARGUMENT, "seqpacket channel name '%s' is too long for a socket path",
                config->channel);
  const int listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listener < 0) return fail(error, IPCMARK_SYSTEM, "seqpacket: socket: %s", strerror(errno));
  /* bind() creates the file and refuses one that exists: that is the contract's AlreadyExists. */
  if (bind(listener, (const struct sockaddr*)&address, sizeof address) != 0) {
    const int err = errno;
    close(listener);
    if (err == EADDRINUSE)
      return fail(error, IPCMARK_ALREADY_EXISTS, "seqpacket channel '%s' already exists (%s); `ipcmark clean` removes it",
                  config->channel, address.sun_path);
    return fail(error, IPCMARK_SYSTEM, "seqpacket: bind %s: %s", address.sun_path, strerror(err));
  }
  if (listen(listener, 16) != 0 || (*out = new_connection(-1, listener, address.sun_path)) == NULL) {
    const int err = errno;
    unlink(address.sun_path);
    close(listener);
    return fail(error, IPCMARK_SYSTEM, "seqpacket: listen: %s", strerror(err));
  }
  return IPCMARK_OK;
}

static ipcmark_status connect_(const ipcmark_channel_config* config, ipcmark_connection** out, ipcmark_error* error) {
  struct sockaddr_un address;
  if (socket_address(config->runtime_dir, config->channel, &address) != 0)
    return fail(error, IPCMARK_INVALID_ARGUMENT, "seqpacket channel name '%s' is too long for a socket path",
                config->channel);
  /* Non-blocking, so that a server that never accepts cannot hang us here (connect has no deadline). */
  const int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(error, IPCMARK_SYSTEM, "seqpacket: socket: %s", strerror(errno));
  if (connect(fd, (const struct sockaddr*)&address, sizeof address) != 0) {
    const int err = errno;
    close(fd);
    /* No file, or a file nobody listens on (left by a crash): either way there is no channel. */
    if (err == ENOENT || err == ECONNREFUSED)
      return fail(error, IPCMARK_DOES_NOT_EXIST, "seqpacket channel '%s' does not exist (%s)", config->channel,
                  address.sun_path);
    if (err == EAGAIN) return fail(error, IPCMARK_TIMEOUT, "seqpacket channel '%s' is busy", config->channel);
    return fail(error, IPCMARK_SYSTEM, "seqpacket: connect %s: %s", address.sun_path, strerror(err));
  }
  if ((*out = new_connection(fd, -1, "")) == NULL) {
    close(fd);
    return fail(error, IPCMARK_SYSTEM, "seqpacket: out of memory");
  }
  return IPCMARK_OK;
}

static ipcmark_status accept_(ipcmark_connection* c, ipcmark_deadline_ns deadline, ipcmark_error* error) {
  while (c->fd < 0) { /* the client has nothing to do; the server waits for its one client */
    const ipcmark_status waited = wait_for(c->listener, POLLIN, deadline, error);
    if (waited != IPCMARK_OK) return waited; /* a Timeout: ipcmark may call accept again */
    c->fd = accept4(c->listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c->fd < 0 && errno != EAGAIN && errno != EINTR)
      return fail(error, IPCMARK_SYSTEM, "seqpacket: accept: %s", strerror(errno));
  }
  if (c->listener >= 0) { /* one client per channel: nobody else may connect now */
    close(c->listener);
    c->listener = -1;
  }
  return IPCMARK_OK;
}

static ipcmark_status send_(ipcmark_connection* c, const void* data, size_t size, ipcmark_deadline_ns deadline,
                            ipcmark_error* error) {
  for (;;) {
    /* MSG_NOSIGNAL: a dead peer is EPIPE, not a SIGPIPE that kills this process. */
    const ssize_t n = send(c->fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == (ssize_t)size) return IPCMARK_OK;
    if (n >= 0) return fail(error, IPCMARK_SYSTEM, "seqpacket: sent %zd of %zu bytes", n, size);
    if (errno == EAGAIN) { /* the receiver's queue is full: back-pressure, wait for room */
      const ipcmark_status waited = wait_for(c->fd, POLLOUT, deadline, error);
      if (waited != IPCMARK_OK) return waited;
    } else if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
      return fail(error, IPCMARK_PEER_GONE, "seqpacket: the peer closed the channel");
    } else if (errno == EMSGSIZE) {
      return fail(error, IPCMARK_MESSAGE_TOO_LARGE, "seqpacket: %zu bytes do not fit the socket buffer", size);
    } else if (errno != EINTR) {
      return fail(error, IPCMARK_SYSTEM, "seqpacket: send: %s", strerror(errno));
    }
  }
}

static ipcmark_status receive(ipcmark_connection* c, void* buffer, size_t capacity, size_t* size,
                              ipcmark_deadline_ns deadline, ipcmark_error* error) {
  for (;;) {
    /* MSG_TRUNC: the real length, so that a message larger than the buffer is caught, not cut. */
    const ssize_t n = recv(c->fd, buffer, capacity, MSG_DONTWAIT | MSG_TRUNC);
    if (n > 0 && (size_t)n > capacity)
      return fail(error, IPCMARK_CORRUPT, "seqpacket: a %zd-byte message for a %zu-byte buffer", n, capacity);
    if (n > 0) {
      *size = (size_t)n;
      return IPCMARK_OK;
    }
    if (n == 0 || errno == ECONNRESET) /* messages are never empty: 0 is the peer's end */
      return fail(error, IPCMARK_PEER_GONE, "seqpacket: the peer closed the channel");
    if (errno == EAGAIN) {
      const ipcmark_status waited = wait_for(c->fd, POLLIN, deadline, error);
      if (waited != IPCMARK_OK) return waited;
    } else if (errno != EINTR) {
      return fail(error, IPCMARK_SYSTEM, "seqpacket: recv: %s", strerror(errno));
    }
  }
}

static void close_(ipcmark_connection* c) {
  if (c->fd >= 0) close(c->fd);
  if (c->listener >= 0) close(c->listener);
  if (c->path[0] != '\0') unlink(c->path); /* the server's: its channel's only name */
  free(c);
}

static void remove_(const char* runtime_dir, const char* channel) {
  struct sockaddr_un address;
  if (socket_address(runtime_dir, channel, &address) == 0) unlink(address.sun_path);
}

/* The descriptor: no zero-copy and no native fanout (those pointers stay NULL), so ipcmark
 * refuses loans for us and builds fanout from one channel per reader. */
static const ipcmark_plugin descriptor = {
    .abi_version = IPCMARK_PLUGIN_ABI_VERSION,
    .name = "seqpacket",
    .summary = "example plugin: Unix SOCK_SEQPACKET socket, one message per packet",
    .max_message = MAX_MESSAGE,
    .has_wait_modes = 0,
    .serve = serve,
    .connect = connect_,
    .accept = accept_,
    .send = send_,
    .receive = receive,
    .close = close_,
    .remove = remove_,
};

const ipcmark_plugin* ipcmark_plugin_entry(void) { return &descriptor; }
