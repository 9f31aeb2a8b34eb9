/* tests/plugins/capable.c — the example plugin (examples/plugin) with the ABI's two optional parts
 * filled in, so that tests/integration/plugin_test.cpp can take ipcmark's bridge through them:
 *  - zero copy: loan() hands out the connection's own send buffer and commit() sends it; view()
 *    receives into its receive buffer and returns it in place. (Not zero copy underneath, a socket
 *    copies, but ipcmark's side of loan/commit/view/release is what is under test.)
 *  - native fanout: the writer listens on the channel's socket and accepts `readers` readers; each
 *    message goes to every live reader; a reader that is gone is closed and counted lost.
 * Its transport is called "capable". */
#define ipcmark_plugin_entry example_plugin_entry /* the example's entry, renamed; ours is below */
#include "seqpacket_plugin.c"
#undef ipcmark_plugin_entry

/* ---- zero copy ---- */

/* A connection's loan and view buffers: found by the connection's address (the example's
 * connection has no room for them), a few connections per process at most. */
struct buffers {
  const ipcmark_connection* owner;
  char loaned[MAX_MESSAGE];
  size_t loaned_size;
  char viewed[MAX_MESSAGE];
};
#define MAX_CONNECTIONS 8
static struct buffers* buffers_of_connection[MAX_CONNECTIONS];

static struct buffers* buffers_of(const ipcmark_connection* c) {
  struct buffers** free_slot = NULL;
  for (int i = 0; i < MAX_CONNECTIONS; ++i) {
    if (buffers_of_connection[i] != NULL && buffers_of_connection[i]->owner == c) return buffers_of_connection[i];
    if (buffers_of_connection[i] == NULL && free_slot == NULL) free_slot = &buffers_of_connection[i];
  }
  if (free_slot == NULL || (*free_slot = calloc(1, sizeof **free_slot)) == NULL) return NULL;
  (*free_slot)->owner = c;
  return *free_slot;
}

static void forget_buffers(const ipcmark_connection* c) {
  for (int i = 0; i < MAX_CONNECTIONS; ++i)
    if (buffers_of_connection[i] != NULL && buffers_of_connection[i]->owner == c) {
      free(buffers_of_connection[i]);
      buffers_of_connection[i] = NULL;
    }
}

static ipcmark_status loan(ipcmark_connection* c, size_t size, void** data, ipcmark_deadline_ns deadline,
                           ipcmark_error* error) {
  (void)deadline; /* the buffer is always free: commit() sends it before it returns */
  struct buffers* b = buffers_of(c);
  if (b == NULL) return fail(error, IPCMARK_SYSTEM, "capable: out of memory");
  if (size > sizeof b->loaned) return fail(error, IPCMARK_MESSAGE_TOO_LARGE, "capable: a loan of %zu bytes", size);
  b->loaned_size = size;
  *data = b->loaned;
  return IPCMARK_OK;
}

static ipcmark_status commit(ipcmark_connection* c, ipcmark_error* error) {
  struct buffers* b = buffers_of(c);
  if (b == NULL) return fail(error, IPCMARK_SYSTEM, "capable: out of memory");
  /* No deadline is given: the send waits as long as the receiver's queue is full. */
  return send_(c, b->loaned, b->loaned_size, INT64_MAX, error);
}

static ipcmark_status view(ipcmark_connection* c, const void** data, size_t* size, ipcmark_deadline_ns deadline,
                           ipcmark_error* error) {
  struct buffers* b = buffers_of(c);
  if (b == NULL) return fail(error, IPCMARK_SYSTEM, "capable: out of memory");
  const ipcmark_status status = receive(c, b->viewed, sizeof b->viewed, size, deadline, error);
  if (status == IPCMARK_OK) *data = b->viewed;
  return status;
}

static ipcmark_status release(ipcmark_connection* c, ipcmark_error* error) {
  (void)c, (void)error; /* the next view() reuses the buffer */
  return IPCMARK_OK;
}

/* ---- native fanout ---- */

/* The writer's readers, found by its connection's address, as buffers are. */
struct fanout_readers {
  const ipcmark_connection* writer;
  int expected;
  int fds[16];
  int joined;
  int lost;
};
static struct fanout_readers* writers[MAX_CONNECTIONS];

static struct fanout_readers* readers_of(const ipcmark_connection* c) {
  for (int i = 0; i < MAX_CONNECTIONS; ++i)
    if (writers[i] != NULL && writers[i]->writer == c) return writers[i];
  return NULL;
}

static ipcmark_status fanout_serve(const ipcmark_channel_config* config, int readers, int lossy,
                                   ipcmark_connection** out, ipcmark_error* error) {
  (void)lossy; /* a socket send waits for room: never lossy */
  int slot = 0;
  while (slot < MAX_CONNECTIONS && writers[slot] != NULL) ++slot;
  if (slot == MAX_CONNECTIONS) return fail(error, IPCMARK_SYSTEM, "capable: too many fanout writers");
  const ipcmark_status served = serve(config, out, error);
  if (served != IPCMARK_OK) return served;
  if ((writers[slot] = calloc(1, sizeof *writers[slot])) == NULL) {
    close_(*out);
    return fail(error, IPCMARK_SYSTEM, "capable: out of memory");
  }
  writers[slot]->writer = *out;
  writers[slot]->expected = readers; /* 1..16: ipcmark checks it */
  return IPCMARK_OK;
}

static ipcmark_status fanout_connect(const ipcmark_channel_config* config, int reader, ipcmark_connection** out,
                                     ipcmark_error* error) {
  (void)reader; /* readers are alike: each gets every message */
  return connect_(config, out, error);
}

static int fanout_readers_lost(ipcmark_connection* writer) {
  const struct fanout_readers* r = readers_of(writer);
  return r == NULL ? 0 : r->lost;
}

/* accept, send and close serve both kinds of connection: a writer's is one with readers. */

static ipcmark_status capable_accept(ipcmark_connection* c, ipcmark_deadline_ns deadline, ipcmark_error* error) {
  struct fanout_readers* r = readers_of(c);
  if (r == NULL) return accept_(c, deadline, error);
  while (r->joined < r->expected) {
    const ipcmark_status waited = wait_for(c->listener, POLLIN, deadline, error);
    if (waited != IPCMARK_OK) return waited;
    const int fd = accept4(c->listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) r->fds[r->joined++] = fd;
    else if (errno != EAGAIN && errno != EINTR) return fail(error, IPCMARK_SYSTEM, "capable: accept: %s", strerror(errno));
  }
  return IPCMARK_OK;
}

static ipcmark_status capable_send(ipcmark_connection* c, const void* data, size_t size, ipcmark_deadline_ns deadline,
                                   ipcmark_error* error) {
  struct fanout_readers* r = readers_of(c);
  if (r == NULL) return send_(c, data, size, deadline, error);
  int live = 0;
  for (int i = 0; i < r->joined; ++i) {
    if (r->fds[i] < 0) continue;
    ipcmark_connection one = {.fd = r->fds[i], .listener = -1, .path = ""};
    const ipcmark_status sent = send_(&one, data, size, deadline, error);
    if (sent == IPCMARK_PEER_GONE) { /* dropped and counted, never an error */
      close(r->fds[i]);
      r->fds[i] = -1;
      ++r->lost;
      continue;
    }
    if (sent != IPCMARK_OK) return sent;
    ++live;
  }
  if (live == 0) return fail(error, IPCMARK_PEER_GONE, "capable: every fanout reader has gone");
  return IPCMARK_OK;
}

static void capable_close(ipcmark_connection* c) {
  forget_buffers(c);
  for (int i = 0; i < MAX_CONNECTIONS; ++i)
    if (writers[i] != NULL && writers[i]->writer == c) {
      for (int j = 0; j < writers[i]->joined; ++j)
        if (writers[i]->fds[j] >= 0) close(writers[i]->fds[j]);
      free(writers[i]);
      writers[i] = NULL;
    }
  close_(c);
}

static ipcmark_plugin capable;

IPCMARK_PLUGIN_EXPORT const ipcmark_plugin* ipcmark_plugin_entry(void) {
  capable = *example_plugin_entry();
  capable.name = "capable";
  capable.summary = "test plugin: the example plugin with loans, views and a native fanout";
  capable.accept = capable_accept;
  capable.send = capable_send;
  capable.close = capable_close;
  capable.loan = loan;
  capable.commit = commit;
  capable.view = view;
  capable.release = release;
  capable.fanout_serve = fanout_serve;
  capable.fanout_connect = fanout_connect;
  capable.fanout_readers_lost = fanout_readers_lost;
  capable.fanout_remove = remove_;
  return &capable;
}
