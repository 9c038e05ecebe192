/* The notifications that only mark work or record a fact: the cycles do
 * the rest. */
#include "common/clock.h"
#include "common/json_util.h"
#include "common/loop.h"
#include "common/plugin.h"
#include "common/store.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include "plugins/revenue-ops/cycle/forwards_sync.h"
#include "plugins/revenue-ops/rpc/rpc.h"
#include "plugins/revenue-ops/store/forwards.h"
#include "plugins/revenue-ops/store/peers.h"

static void sync_now(struct loop *loop, void *arg)
{
	struct revenue *r = arg;
	r->sync_timer = NULL;
	forwards_sync(r, NULL, NULL);
	(void)loop;
}

/* A forward changed: reconcile from listforwards rather than trusting the
 * notification's content, so a missed or reordered notification cannot
 * lose a forward. A zero-delay timer folds a burst of notifications read
 * together into one reconciliation. */
void on_forward_event(struct plugin *p, const json_t *payload)
{
	struct revenue *r = plugin_app(p);
	if (!r->sync_timer)
		r->sync_timer = loop_add_timer(plugin_loop(p), 0, sync_now, r);
	(void)payload;
}

/* connect / disconnect: the id is at the top (v23.08+ unwrapped by the
 * runtime) or under "connect"/"disconnect" (older shapes). */
static void on_conn(struct plugin *p, const json_t *payload, const char *topic,
		    const char *event)
{
	struct revenue *r = plugin_app(p);
	const char *id = json_str(payload, "id");
	char *err = NULL;

	if (!id)
		id = json_str(json_object_get(payload, topic), "id");
	if (!r->db || !pubkey_hex_valid(id))
		return;
	/* A notification that arrives while a cycle holds the write
	 * transaction would nest; the cycle is synchronous between RPCs, so
	 * this never happens, but losing one event is better than a
	 * crash. */
	if (store_in_transaction(r->db))
		return;
	if (!peers_record_event(r, id, event, clock_wall_sec(plugin_clock(p)),
				&err)) {
		plugin_log(p, PLOG_WARN, "%s %s: %s", topic, id, err);
		free(err);
	}
}

void on_peer_connect(struct plugin *p, const json_t *payload)
{
	on_conn(p, payload, "connect", "connected");
}

void on_peer_disconnect(struct plugin *p, const json_t *payload)
{
	on_conn(p, payload, "disconnect", "disconnected");
}
