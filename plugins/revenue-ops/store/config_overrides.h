/* The settings' runtime overrides (table config_overrides): what
 * `revenue-config set` stored, which wins over the option and the default
 * (base/config.h). */
#ifndef HIVE_REVENUE_OPS_CONFIG_OVERRIDES_H
#define HIVE_REVENUE_OPS_CONFIG_OVERRIDES_H
#include "plugins/revenue-ops/base/config.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct store;

/* Load every override into @c, skipping with a warning in *warnings (a
 * JSON array of strings, new reference) rows that are unknown, immutable
 * or invalid. */
bool config_load_overrides(struct ro_config *c, struct store *db,
			   json_t **warnings, char **err);
/* Persist @k's text value (or delete the override when @text is NULL) in
 * the caller's transaction. */
bool config_store_override(struct store *db, enum cfg_key k, const char *text,
			   uint64_t now, char **err);

#endif
