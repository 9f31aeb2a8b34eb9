/* tests/plugins/misbehaving.c — the example plugin (examples/plugin) with one fault, chosen at
 * compile time, for tests/integration/plugin_test.cpp:
 *   PLUGIN_CLASH  its transport is called "pipe", a built-in transport's name
 *   PLUGIN_CRASH  its send() crashes (SIGSEGV) on the 20th message a process sends
 *   PLUGIN_DROP   its send() drops the 50th and the 150th message a process sends, saying it sent them
 *   PLUGIN_REORDER its send() holds the 50th message a process sends back and sends it after the 51st
 *   PLUGIN_HANG   its send() never returns from the 20th message a process sends, deadline or not */
#define ipcmark_plugin_entry example_plugin_entry /* the example's entry, renamed; ours is below */
#include "seqpacket_plugin.c"
#undef ipcmark_plugin_entry

#include <signal.h> /* after the example, whose _GNU_SOURCE must come before any system header */

static ipcmark_plugin faulty;
static unsigned long sent;
#if defined(PLUGIN_REORDER)
static char held[MAX_MESSAGE];
static size_t held_size;
#endif

static ipcmark_status faulty_send(ipcmark_connection* c, const void* data, size_t size, ipcmark_deadline_ns deadline,
                                  ipcmark_error* error) {
  ++sent;
#if defined(PLUGIN_CRASH)
  if (sent == 20) raise(SIGSEGV);
#elif defined(PLUGIN_DROP)
  if (sent == 50 || sent == 150) return IPCMARK_OK; /* not the last: a run then counts them lost */
#elif defined(PLUGIN_REORDER)
  if (sent == 50 && size <= sizeof held) {
    memcpy(held, data, size);
    held_size = size;
    return IPCMARK_OK;
  }
  if (sent == 51 && held_size > 0) {
    const ipcmark_status status = send_(c, data, size, deadline, error);
    return status != IPCMARK_OK ? status : send_(c, held, held_size, deadline, error);
  }
#elif defined(PLUGIN_HANG)
  while (sent >= 20) pause();
#endif
  return send_(c, data, size, deadline, error);
}

IPCMARK_PLUGIN_EXPORT const ipcmark_plugin* ipcmark_plugin_entry(void) {
  faulty = *example_plugin_entry();
  faulty.send = faulty_send;
#if defined(PLUGIN_CLASH)
  faulty.name = "pipe";
#elif defined(PLUGIN_CRASH)
  faulty.name = "crashy";
#elif defined(PLUGIN_DROP)
  faulty.name = "dropping";
#elif defined(PLUGIN_REORDER)
  faulty.name = "reordering";
#elif defined(PLUGIN_HANG)
  faulty.name = "hanging";
#endif
  return &faulty;
}
