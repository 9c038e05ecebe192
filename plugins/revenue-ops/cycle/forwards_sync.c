/* Reconciling the forward store with lightningd; see forwards_sync.h.
 *
 * created_index/updated_index (v23.11+) drive incremental pagination of
 * listforwards, and the cursors are stored so a restart resumes where it
 * stopped. */
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "common/plugin.h"
#include "common/rpc.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/store/forwards.h"
#include <string.h>

#define PAGE_LIMIT 5000

struct sync_waiter {
	void (*done)(struct revenue *r, bool ok, void *arg);
	void *arg;
};

struct forwards_sync_state {
	bool running, again;
	bool ok;
	int phase; /* 0: by created, 1: by updated */
	uint64_t created_next, updated_next;
	uint64_t rows;
	struct sync_waiter *waiters;
	size_t nwaiters, capwaiters;
	/* Waiters registered during a run wait for the next run. */
	struct sync_waiter *later;
	size_t nlater, caplater;
};

static struct forwards_sync_state *S(struct revenue *r)
{
	if (!r->fwd_sync)
		r->fwd_sync = xzalloc(sizeof(struct forwards_sync_state));
	return r->fwd_sync;
}

void forwards_state_free(struct revenue *r)
{
	struct forwards_sync_state *s = r->fwd_sync;
	if (!s)
		return;
	free(s->waiters);
	free(s->later);
	free(s);
	r->fwd_sync = NULL;
}

bool forwards_syncing(const struct revenue *r)
{
	return r->fwd_sync && r->fwd_sync->running;
}

static void finish(struct revenue *r, bool ok);
static void start_phase(struct revenue *r);

static bool on_page(struct rpc *rpc, const json_t *items, void *arg)
{
	struct revenue *r = arg;
	struct forwards_sync_state *s = S(r);
	char *err = NULL;

	if (!forwards_store_page(r, items, &err)) {
		plugin_log(r->plugin, PLOG_WARN,
			   "forward sync: %s (will retry next cycle)", err);
		free(err);
		s->ok = false;
		(void)rpc;
		return false;
	}
	s->rows += json_array_size(items);
	return true;
}

static void on_pages_done(struct rpc *rpc, const struct rpc_reply *error,
			  uint64_t next, void *arg)
{
	struct revenue *r = arg;
	struct forwards_sync_state *s = S(r);
	char *err = NULL;
	const char *key = s->phase == 0 ? "forwards_created_next"
					: "forwards_updated_next";

	if (error) {
		char *e = rpc_reply_errtext(error);
		plugin_log(r->plugin, PLOG_WARN,
			   "forward sync: %s (will retry next cycle)", e);
		free(e);
		finish(r, false);
		return;
	}
	if (!s->ok) {
		finish(r, false);
		return;
	}
	if (next && !forwards_cursor_set(r, key, next, &err)) {
		plugin_log(r->plugin, PLOG_WARN, "forward sync: %s", err);
		free(err);
		finish(r, false);
		return;
	}
	if (s->phase == 0) {
		s->phase = 1;
		start_phase(r);
		return;
	}
	finish(r, true);
	(void)rpc;
}

static void start_phase(struct revenue *r)
{
	struct forwards_sync_state *s = S(r);
	char *err = NULL;
	uint64_t start;
	const char *key = s->phase == 0 ? "forwards_created_next"
					: "forwards_updated_next";

	if (!forwards_cursor_get(r, key, &start, &err)) {
		plugin_log(r->plugin, PLOG_WARN, "forward sync: %s", err);
		free(err);
		finish(r, false);
		return;
	}
	rpc_paginate(plugin_rpc(r->plugin), NULL, "listforwards", "forwards",
		     s->phase == 0 ? "created" : "updated", start, PAGE_LIMIT,
		     NULL, on_page, on_pages_done, r);
}

static void begin(struct revenue *r)
{
	struct forwards_sync_state *s = S(r);

	s->running = true;
	s->again = false;
	s->ok = true;
	s->phase = 0;
	s->rows = 0;
	/* Those who asked while idle are served by this run. */
	s->waiters = s->later;
	s->nwaiters = s->nlater;
	s->capwaiters = s->caplater;
	s->later = NULL;
	s->nlater = s->caplater = 0;
	start_phase(r);
}

static void finish(struct revenue *r, bool ok)
{
	struct forwards_sync_state *s = S(r);
	struct sync_waiter *w = s->waiters;
	size_t n = s->nwaiters;

	s->running = false;
	s->waiters = NULL;
	s->nwaiters = s->capwaiters = 0;
	if (s->rows)
		plugin_log(r->plugin, PLOG_DEBUG, "forward sync: %llu rows",
			   (unsigned long long)s->rows);
	for (size_t i = 0; i < n; i++)
		if (w[i].done)
			w[i].done(r, ok, w[i].arg);
	free(w);
	if (s->again || s->nlater)
		begin(r);
}

void forwards_sync(struct revenue *r,
		   void (*done)(struct revenue *r, bool ok, void *arg),
		   void *arg)
{
	struct forwards_sync_state *s = S(r);

	xgrow(&s->later, &s->caplater, s->nlater + 1, sizeof(*s->later));
	s->later[s->nlater++] = (struct sync_waiter){done, arg};
	if (s->running) {
		s->again = true;
		return;
	}
	begin(r);
}

json_t *forwards_status_json(struct revenue *r)
{
	return json_pack("{s:I,s:I,s:b}", "stored",
			 (json_int_t)forwards_count_rows(r), "rolled_up_days",
			 (json_int_t)forwards_count_rolled_days(r), "syncing",
			 forwards_syncing(r));
}
