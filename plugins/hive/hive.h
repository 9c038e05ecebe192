/* cl-hive's shared state: the plugin handle, its database and the option
 * values it acts on. One instance, owned by main(). */
#ifndef HIVE_PLUGINS_HIVE_HIVE_H
#define HIVE_PLUGINS_HIVE_HIVE_H
#include <stdbool.h>
#include <stdint.h>

struct plugin;
struct store;

#define HIVE_VERSION "0.1.0"

struct hive {
	struct plugin *plugin;
	struct store *db;
	char *db_path;
};

/* Open (and migrate) the database at @path. NULL with *err on failure. */
struct store *hive_db_open(const char *path, char **err);

#endif
