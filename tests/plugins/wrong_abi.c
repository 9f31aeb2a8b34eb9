/* tests/plugins/wrong_abi.c — a plugin built for an ABI version this ipcmark does not speak. */
#include <ipcmark/plugin.h>

static const ipcmark_plugin descriptor = {.abi_version = IPCMARK_PLUGIN_ABI_VERSION + 1, .name = "from-the-future"};

const ipcmark_plugin* ipcmark_plugin_entry(void) { return &descriptor; }
