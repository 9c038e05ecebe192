/* What we told CLBOSS (table clboss_unmanaged of migration 3): which
 * tags of which peers it leaves to us. The calls to CLBOSS itself are in
 * cycle/clboss.h. */
#ifndef HIVE_REVENUE_OPS_STORE_CLBOSS_H
#define HIVE_REVENUE_OPS_STORE_CLBOSS_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct revenue;

/* Remember that @peer_id is unmanaged for each tag of the CSV @tags, in
 * the caller's transaction. */
bool clboss_record(struct revenue *r, const char *peer_id, const char *tags,
		   uint64_t now, char **err)
    __attribute__((warn_unused_result));

/* CLBOSS manages @tag of @peer_id again: drop our record of it, in the
 * caller's transaction. */
bool clboss_forget(struct revenue *r, const char *peer_id, const char *tag,
		   char **err) __attribute__((warn_unused_result));

/* The records of @peer_id (NULL: every peer), by peer and tag (new
 * reference; empty on a database error). */
json_t *clboss_unmanaged_json(struct revenue *r, const char *peer_id);

/* Every record, appended to *peers and *tags (*n of each; the caller
 * frees both arrays). */
bool clboss_unmanaged_all(struct revenue *r, char (**peers)[67],
			  char (**tags)[16], size_t *n, char **err)
    __attribute__((warn_unused_result));

#endif
