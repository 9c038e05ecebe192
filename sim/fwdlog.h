/* Each fleet node's forwarding record, as lightningd keeps it for
 * `listforwards`: one entry per incoming HTLC that asked to be forwarded,
 * with CLN's created_index (order of creation) and updated_index (bumped
 * on every change), status offered -> settled | failed | local_failed. */
#ifndef HIVE_SIM_FWDLOG_H
#define HIVE_SIM_FWDLOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FWD_NO_CHANNEL UINT32_MAX

enum fwd_status { FWD_OFFERED, FWD_SETTLED, FWD_FAILED, FWD_LOCAL_FAILED };

struct fwd {
	uint64_t created_index;	 /* 1, 2, 3, ... */
	uint64_t updated_index;	 /* 0 until first change after creation */
	uint32_t in_chan;	 /* net channel index */
	uint32_t out_chan;	 /* FWD_NO_CHANNEL when none was chosen */
	uint64_t in_htlc_id;
	uint64_t out_htlc_id;	 /* valid when out_chan is set */
	uint64_t in_msat, out_msat, fee_msat;
	enum fwd_status status;
	uint16_t failcode;	 /* BOLT 4 code for local_failed, else 0 */
	uint64_t received_ms;	 /* simulated time */
	uint64_t resolved_ms;	 /* 0 while offered */
	uint8_t payment_hash[32];
};

struct fwdlog {
	struct fwd *v; /* in created_index order: v[i] has i + 1 */
	size_t n, cap;
	/* created_index of each update, in updated_index order, so a
	 * listforwards page by updated_index starts without a scan. */
	struct fwd_update {
		uint64_t updated_index, created_index;
	} *updates;
	size_t nupdates, capupdates;
	uint64_t next_updated_index;
	uint64_t next_htlc_id;
};

void fwdlog_init(struct fwdlog *l);
void fwdlog_free(struct fwdlog *l);
/* Append a new forward (status offered or local_failed); returns it. The
 * pointer is valid until the next add. */
struct fwd *fwdlog_add(struct fwdlog *l, const struct fwd *f);
/* Resolve the forward with @created_index: sets status, resolved time and
 * a new updated_index. Returns it, or NULL if unknown. */
struct fwd *fwdlog_resolve(struct fwdlog *l, uint64_t created_index,
			   enum fwd_status status, uint64_t resolved_ms);
/* The forward updated at position @k of l->updates (in updated_index
 * order), or NULL when it changed again since. */
const struct fwd *fwdlog_update_at(const struct fwdlog *l, size_t k);
/* The first position of l->updates with an updated_index >= @start. */
size_t fwdlog_updates_from(const struct fwdlog *l, uint64_t start);
const char *fwd_status_name(enum fwd_status s);

#endif
