/* include/ipcmark/plugin.h — the C ABI of an ipcmark transport plugin.
 *
 * A plugin is a shared library that ipcmark loads with dlopen() (`--plugin PATH.so`, or the
 * IPCMARK_PLUGIN_PATH search path). It exports one function, ipcmark_plugin_entry(), returning
 * a descriptor: the transport's name and limits, and the functions below. Once loaded, the
 * transport works wherever a built-in one does (list, run, serve, read, clean, conform), and
 * `ipcmark conform --transports NAME --plugin PATH.so` checks it against the same contract.
 *
 * Plain C (C99), so a plugin can be written in C, C++, Rust or Zig. Every field and function is
 * described where it is declared; examples/plugin/ is a complete plugin.
 *
 * The contract, as transports/transport.hpp states it for built-in transports:
 *  - serve() creates the channel's names; a name that exists fails with IPCMARK_ALREADY_EXISTS.
 *  - connect() opens an existing channel; a missing one fails with IPCMARK_DOES_NOT_EXIST at once.
 *  - Messages of 1..max_message bytes arrive whole, in order, exactly once.
 *  - A full channel makes send() wait (back-pressure), never fail or drop.
 *  - accept(), send() and receive() return by their deadline: IPCMARK_TIMEOUT if it passes,
 *    IPCMARK_PEER_GONE if the other process died or closed.
 *  - close() on the server's connection removes every name serve() created; remove() does the
 *    same for names a crashed process left behind.
 *  - A plugin moves bytes: it never prints and never reads a clock for measurement.
 * ipcmark itself refuses messages larger than the channel's max_message (MessageTooLarge),
 * loans and views when the zero-copy functions are NULL, and a fanout reader's send(), so a
 * plugin need not check those. The seed demo (`serve`/`read`, the oneshot pattern) is built by
 * ipcmark over the point-to-point functions: a plugin has nothing more to write for it.
 *
 * Threads: one connection is used by one thread at a time. Processes: server and client are
 * separate processes, each with its own copy of the plugin; no state is shared but what the
 * plugin's channel itself shares (files, sockets, shared memory).
 */
#ifndef IPCMARK_PLUGIN_H
#define IPCMARK_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this ABI. A plugin puts it in ipcmark_plugin.abi_version; ipcmark refuses a
 * plugin built against another version (it says which) rather than call into it. Any change
 * to a struct or function below increments it. */
#define IPCMARK_PLUGIN_ABI_VERSION 1

/* What a function returns; each maps to ipcmark's Errc of the same name. */
typedef enum ipcmark_status {
  IPCMARK_OK = 0,
  IPCMARK_INVALID_ARGUMENT = 1, /* bad name, size, option */
  IPCMARK_ALREADY_EXISTS = 2,   /* serve(): the channel's names exist */
  IPCMARK_DOES_NOT_EXIST = 3,   /* connect(): no such channel */
  IPCMARK_MESSAGE_TOO_LARGE = 4,
  IPCMARK_TIMEOUT = 5,   /* the deadline passed */
  IPCMARK_PEER_GONE = 6, /* the other process died or closed its end */
  IPCMARK_CORRUPT = 7,   /* what the peer wrote failed validation */
  IPCMARK_SYSTEM = 8     /* an unexpected system call failure */
} ipcmark_status;

/* Where a failing function says why, in one line without a trailing period (ipcmark prints it
 * as `ipcmark: error: <message>`): e.g. "myipc channel 'x' already exists (/run/x.sock)". A
 * message that does not fit is cut; one left empty is replaced by the status's name. */
#define IPCMARK_ERROR_SIZE 256
typedef struct ipcmark_error {
  char message[IPCMARK_ERROR_SIZE];
} ipcmark_error;

/* How a waiting side waits (only meaningful when has_wait_modes is set). */
typedef enum ipcmark_wait { IPCMARK_WAIT_SPIN = 0, IPCMARK_WAIT_BLOCK = 1 } ipcmark_wait;

/* A channel as the user asked for it. */
typedef struct ipcmark_channel_config {
  const char* channel;     /* 1..200 of [A-Za-z0-9._-]; names the plugin creates start with it */
  size_t max_message;      /* largest message either side will send, bytes */
  ipcmark_wait wait;
  const char* runtime_dir; /* a directory private to this user (mode 0700) for sockets and
                              FIFOs; `ipcmark clean` and conform's leftover checks look there,
                              and in /dev/shm, for names starting with the channel's */
} ipcmark_channel_config;

/* A deadline: CLOCK_MONOTONIC time in nanoseconds (clock_gettime), never a duration. */
typedef int64_t ipcmark_deadline_ns;

/* One side of an open channel: the plugin's own type, opaque to ipcmark. */
typedef struct ipcmark_connection ipcmark_connection;

typedef struct ipcmark_plugin {
  /* IPCMARK_PLUGIN_ABI_VERSION, first so that ipcmark can check it before reading the rest. */
  uint32_t abi_version;

  const char* name;      /* the CLI value and the results' "transport": 1 to 32 of [a-z0-9._-], and
                            not the name of a built-in transport or of another loaded plugin */
  const char* summary;   /* one line for `ipcmark list` */
  size_t max_message;    /* largest message the transport can carry, bytes (>= 1) */
  int has_wait_modes;    /* nonzero: ipcmark_wait changes something (rows get /spin, /block) */

  /* ---- point to point (required): one server, one client ---- */

  /* Creates the channel and returns the server's connection in *out. */
  ipcmark_status (*serve)(const ipcmark_channel_config* config, ipcmark_connection** out, ipcmark_error* error);
  /* Opens the existing channel and returns the client's connection in *out. */
  ipcmark_status (*connect)(const ipcmark_channel_config* config, ipcmark_connection** out, ipcmark_error* error);
  /* Completes the connection: the server waits until the client has connected, the client
   * finishes any handshake. Both sides call it before any I/O; after IPCMARK_TIMEOUT it must
   * work when called again (the seed demo waits for readers in short steps). */
  ipcmark_status (*accept)(ipcmark_connection* c, ipcmark_deadline_ns deadline, ipcmark_error* error);
  /* Sends `size` bytes (1..max_message) as one message; waits while the channel is full. */
  ipcmark_status (*send)(ipcmark_connection* c, const void* data, size_t size, ipcmark_deadline_ns deadline,
                         ipcmark_error* error);
  /* Copies the next message into `buffer` (capacity >= the channel's max_message) and stores its
   * length in *size. */
  ipcmark_status (*receive)(ipcmark_connection* c, void* buffer, size_t capacity, size_t* size,
                            ipcmark_deadline_ns deadline, ipcmark_error* error);
  /* Closes the connection and frees it; the server's also removes the channel's names. */
  void (*close)(ipcmark_connection* c);
  /* Removes whatever names a crashed process left for `channel`; nothing if there are none. */
  void (*remove)(const char* runtime_dir, const char* channel);

  /* ---- zero copy (optional: all four NULL, or all four set) ---- */

  /* Waits for room and returns `size` writable bytes inside the channel in *data. */
  ipcmark_status (*loan)(ipcmark_connection* c, size_t size, void** data, ipcmark_deadline_ns deadline,
                         ipcmark_error* error);
  /* Sends the loaned bytes. */
  ipcmark_status (*commit)(ipcmark_connection* c, ipcmark_error* error);
  /* Waits for the next message and returns it in place (*data, *size): the peer's bytes. */
  ipcmark_status (*view)(ipcmark_connection* c, const void** data, size_t* size, ipcmark_deadline_ns deadline,
                         ipcmark_error* error);
  /* Gives the viewed message's room back. */
  ipcmark_status (*release)(ipcmark_connection* c, ipcmark_error* error);

  /* ---- native fanout (optional: all four NULL, or all four set) ----
   * Without it ipcmark builds fanout over point to point: one channel per reader, named
   * "<channel>.r<i>". With it: one writer, `readers` receive-only readers, every live reader gets
   * every message in order; a reader that dies is dropped and counted, never an error. The
   * writer's connection uses accept (waits for all readers), send and close; a reader's uses
   * accept, receive and close. */
  ipcmark_status (*fanout_serve)(const ipcmark_channel_config* config, int readers, int lossy,
                                 ipcmark_connection** out, ipcmark_error* error);
  ipcmark_status (*fanout_connect)(const ipcmark_channel_config* config, int reader, ipcmark_connection** out,
                                   ipcmark_error* error);
  /* Readers the writer dropped so far because they died or closed. */
  int (*fanout_readers_lost)(ipcmark_connection* writer);
  void (*fanout_remove)(const char* runtime_dir, const char* channel);
} ipcmark_plugin;

/* Symbol visibility for the entry point, whatever the plugin's default visibility. */
#if defined(__GNUC__)
#define IPCMARK_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define IPCMARK_PLUGIN_EXPORT
#endif

/* The one symbol ipcmark looks up (dlsym "ipcmark_plugin_entry"). It returns a descriptor that
 * stays valid while the library is loaded (a static), or NULL if the plugin cannot work here. */
IPCMARK_PLUGIN_EXPORT const ipcmark_plugin* ipcmark_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* IPCMARK_PLUGIN_H */
