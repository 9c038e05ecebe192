/* Notifications and hooks of the fake lightningd, and the ticks that move
 * each plugin's clock. Under simulated time nothing reaches a plugin but
 * at lnd_sync: queued notifications go to their subscribers, hooks are
 * chained plugin by plugin, then each plugin is ticked to the new time and
 * waited for until it is idle. A plugin's own custom notifications are
 * relayed to subscribers as lightningd relays them. */
#include "common/json_util.h"
#include "common/util.h"
#include "sim/lightningd.h"
#include "sim/lightningd_internal.h"
#include "sim/net.h"
#include <stdio.h>
#include <string.h>

/* ---------- notifications ---------- */

static void deliver_notification(struct lnd *lnd, const char *topic,
				 json_t *payload)
{
	for (size_t k = 0; k < lnd->nplugins; k++) {
		struct lplugin *pl = lnd->plugins[k];
		if (pl->state != PL_RUNNING || !lplugin_subscribed(pl, topic))
			continue;
		lplugin_notify(pl, topic,
			       json_pack("{s:O}", topic, payload));
	}
}

/* ---------- hooks ---------- */

static bool hook_wants(const struct lplugin *pl, const char *hook,
		       const json_t *params)
{
	size_t i;
	json_t *h;

	if (pl->state != PL_RUNNING)
		return false;
	json_array_foreach(pl->hooks, i, h) {
		const char *name = json_is_string(h) ? json_string_value(h)
						     : json_str(h, "name");
		const json_t *filters = json_object_get(h, "filters");
		if (!name || strcmp(name, hook))
			continue;
		if (!strcmp(hook, "custommsg") && json_is_array(filters)) {
			const char *payload = json_str(params, "payload");
			unsigned type;
			if (!payload || sscanf(payload, "%4x", &type) != 1)
				return false;
			size_t j;
			json_t *f;
			json_array_foreach(filters, j, f)
				if (json_integer_value(f) == (json_int_t)type)
					return true;
			return false;
		}
		return true;
	}
	return false;
}

static void hook_next(struct lnd *lnd, struct hook_call *hc);

static void hook_reply(struct lplugin *pl, const json_t *msg, void *arg)
{
	struct hook_call *hc = arg;
	struct lnd *lnd = pl->lnd;
	const char *res = json_str(json_object_get(msg, "result"), "result");

	if (msg && (!res || strcmp(res, "continue"))) {
		char *t = json_to_text(msg);
		lnd_log(lnd, "UNUSUAL", pl->name,
			"hook %s answered other than continue: %.200s",
			hc->hook, t);
		free(t);
	}
	hook_next(lnd, hc);
}

static void hook_next(struct lnd *lnd, struct hook_call *hc)
{
	while (hc->next_plugin < lnd->nplugins) {
		struct lplugin *pl = lnd->plugins[hc->next_plugin++];
		if (!hook_wants(pl, hc->hook, hc->params))
			continue;
		lplugin_request(pl, NULL, hc->hook, json_incref(hc->params),
				hook_reply, hc, NULL);
		return;
	}
	lnd->hooks_in_flight--;
	free(hc->hook);
	json_decref(hc->params);
	free(hc);
}

static void start_hook(struct lnd *lnd, const char *hook, json_t *params)
{
	struct hook_call *hc = xzalloc(sizeof(*hc));
	hc->hook = xstrdup(hook);
	hc->params = params;
	lnd->hooks_in_flight++;
	hook_next(lnd, hc);
}

/* ---------- the queue ---------- */

static void flush_queue(struct lnd *lnd)
{
	/* Take the queue first: delivering may queue more (for the next
	 * sync). */
	struct queued *q = lnd->queue;
	size_t n = lnd->nqueue;

	lnd->queue = NULL;
	lnd->nqueue = lnd->capqueue = 0;
	for (size_t i = 0; i < n; i++) {
		if (q[i].is_hook) {
			start_hook(lnd, q[i].name, q[i].params);
		} else {
			deliver_notification(lnd, q[i].name, q[i].params);
			json_decref(q[i].params);
		}
		free(q[i].name);
	}
	free(q);
}

static void enqueue(struct lnd *lnd, bool is_hook, const char *name,
		    json_t *params)
{
	lnd_log_notification(lnd, is_hook ? "hook" : "notification", name,
			     params);
	xgrow(&lnd->queue, &lnd->capqueue, lnd->nqueue + 1,
	      sizeof(*lnd->queue));
	lnd->queue[lnd->nqueue++] = (struct queued){
		.is_hook = is_hook, .name = xstrdup(name), .params = params};
	if (!lnd->cfg.sim_clock)
		flush_queue(lnd);
}

void lnd_notify(struct lnd *lnd, const char *topic, json_t *payload)
{
	enqueue(lnd, false, topic, payload);
}

void lnd_hook(struct lnd *lnd, const char *hook, json_t *params)
{
	enqueue(lnd, true, hook, params);
}

/* ---------- ticks ---------- */

static void tick_reply(struct lplugin *pl, const json_t *msg, void *arg)
{
	const json_t *res = json_object_get(msg, "result");
	uint64_t next;

	pl->tick_waiting = false;
	if (!msg)
		return;
	if (!res) {
		char *t = json_to_text(msg);
		lnd_set_failure(pl->lnd,
				xfmt("plugin %s: bad tick reply %.200s",
				     pl->name, t));
		free(t);
		return;
	}
	pl->next_deadline_ms =
		json_get_u64(res, "next_deadline_ms", &next) ? next : UINT64_MAX;
	(void)arg;
}

static bool tick_done(void *arg)
{
	struct lplugin *pl = arg;
	return !pl->tick_waiting || pl->state == PL_DEAD;
}

static bool hooks_done(void *arg)
{
	struct lnd *lnd = arg;
	return lnd->hooks_in_flight == 0;
}

bool lnd_sync(struct lnd *lnd, uint64_t now_ms, char **err)
{
	*err = NULL;
	lnd->now_ms = now_ms;
	flush_queue(lnd);
	if (!lnd_serve_until(lnd, hooks_done, lnd,
			     lnd->cfg.plugin_timeout_ms)) {
		*err = xfmt("node %s: a hook was not answered within %d ms",
			    lnd->cfg.net->nodes[lnd->cfg.node_idx].alias,
			    lnd->cfg.plugin_timeout_ms);
		return false;
	}
	for (size_t k = 0; k < lnd->nplugins; k++) {
		struct lplugin *pl = lnd->plugins[k];
		if (pl->state != PL_RUNNING)
			continue;
		pl->tick_waiting = true;
		lplugin_request(pl, NULL, "hive-sim-tick",
				json_pack("{s:I}", "now_ms",
					  (json_int_t)now_ms),
				tick_reply, NULL, NULL);
		if (!lnd_serve_until(lnd, tick_done, pl,
				     lnd->cfg.plugin_timeout_ms)) {
			char *tail = lplugin_stderr_tail(pl);
			*err = xfmt("plugin %s on node %s hung: no idle reply "
				    "within %d ms; stderr:\n%s",
				    pl->name,
				    lnd->cfg.net->nodes[lnd->cfg.node_idx].alias,
				    lnd->cfg.plugin_timeout_ms, tail);
			free(tail);
			lnd_set_failure(lnd, xstrdup(*err));
			return false;
		}
	}
	if (lnd->failure) {
		*err = xstrdup(lnd->failure);
		return false;
	}
	return true;
}

uint64_t lnd_next_deadline_ms(const struct lnd *lnd)
{
	uint64_t next = UINT64_MAX;
	for (size_t k = 0; k < lnd->nplugins; k++)
		if (lnd->plugins[k]->state == PL_RUNNING &&
		    lnd->plugins[k]->next_deadline_ms < next)
			next = lnd->plugins[k]->next_deadline_ms;
	return next;
}
