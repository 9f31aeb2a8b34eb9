/* tests/plugins/no_entry.c — a shared library that is not an ipcmark plugin: no ipcmark_plugin_entry. */
int not_an_ipcmark_plugin(void) { return 42; }
