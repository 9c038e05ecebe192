/* Periodic cycles; see schedule.h. */
#include "plugins/revenue-ops/cycle/schedule.h"
#include "common/clock.h"
#include "common/loop.h"
#include "common/plugin.h"
#include "common/rng.h"
#include "common/util.h"
#include "plugins/revenue-ops/base/revenue.h"
#include <string.h>

struct cycle {
	struct revenue *r;
	const struct cycle_def *def;
	struct loop_timer *timer;
	bool running;
	bool stopped; /* freed once the running body finishes */
	uint64_t runs, failures;
	uint64_t created_ms, last_start_ms, last_end_ms, next_ms;
	char *last_error;
};

static uint64_t now_ms(const struct cycle *c)
{
	return clock_mono_ms(plugin_clock(c->r->plugin));
}

static void fire(struct loop *loop, void *arg);

static void arm(struct cycle *c, uint64_t delay_sec)
{
	uint64_t ms = delay_sec * 1000;

	if (c->def->jitter > 0 && ms > 0) {
		double j = (rng_unit(&c->r->rng) * 2.0 - 1.0) * c->def->jitter;
		ms = (uint64_t)((double)ms * (1.0 + j));
	}
	c->next_ms = now_ms(c) + ms;
	c->timer = loop_add_timer(plugin_loop(c->r->plugin), ms, fire, c);
}

static void begin(struct cycle *c)
{
	c->running = true;
	c->last_start_ms = now_ms(c);
	c->def->run(c->r, c);
}

static void fire(struct loop *loop, void *arg)
{
	struct cycle *c = arg;
	c->timer = NULL;
	begin(c);
	(void)loop;
}

struct cycle *cycle_start(struct revenue *r, const struct cycle_def *def)
{
	struct cycle *c = xzalloc(sizeof(*c));
	c->r = r;
	c->def = def;
	c->created_ms = now_ms(c);
	arm(c, def->start_delay_sec);
	return c;
}

void cycle_done(struct cycle *c, const char *error)
{
	c->running = false;
	c->runs++;
	c->last_end_ms = now_ms(c);
	free(c->last_error);
	c->last_error = error ? xstrdup(error) : NULL;
	if (error) {
		c->failures++;
		plugin_log(c->r->plugin, PLOG_WARN, "%s cycle: %s",
			   c->def->name, error);
	}
	if (c->stopped) {
		free(c->last_error);
		free(c);
		return;
	}
	arm(c, c->def->interval_sec(c->r));
}

void cycle_wake(struct cycle *c)
{
	if (c->running)
		return;
	if (c->timer)
		loop_cancel_timer(plugin_loop(c->r->plugin), c->timer);
	c->timer = NULL;
	begin(c);
}

bool cycle_running(const struct cycle *c)
{
	return c->running;
}

void cycle_stop(struct cycle *c)
{
	if (!c)
		return;
	if (c->timer)
		loop_cancel_timer(plugin_loop(c->r->plugin), c->timer);
	c->timer = NULL;
	if (c->running) {
		c->stopped = true;
		return;
	}
	free(c->last_error);
	free(c);
}

const char *cycle_name(const struct cycle *c)
{
	return c->def->name;
}

const char *cycle_last_error(const struct cycle *c)
{
	return c->last_error;
}

uint64_t cycle_runs(const struct cycle *c)
{
	return c->runs;
}

json_t *cycle_status_json(const struct cycle *c)
{
	uint64_t wall = clock_wall_sec(plugin_clock(c->r->plugin));
	uint64_t mono = now_ms(c);
	/* Report times as wall-clock seconds. */
	json_t *o = json_pack(
		"{s:s,s:s,s:I,s:I}", "name", c->def->name, "state",
		c->running ? "running" : "waiting", "runs",
		(json_int_t)c->runs, "failures", (json_int_t)c->failures);
	if (c->runs) {
		json_object_set_new(
			o, "last_end",
			json_integer((json_int_t)(wall - (mono - c->last_end_ms) /
							  1000)));
		json_object_set_new(
			o, "last_duration_ms",
			json_integer((json_int_t)(c->last_end_ms -
						  c->last_start_ms)));
	}
	if (c->last_error)
		json_object_set_new(o, "last_error", json_string(c->last_error));
	if (!c->running && c->next_ms >= mono)
		json_object_set_new(
			o, "next_run",
			json_integer((json_int_t)(wall + (c->next_ms - mono) /
							  1000)));
	return o;
}

json_t *cycle_health_json(const struct cycle *c, bool *stalled)
{
	uint64_t wall = clock_wall_sec(plugin_clock(c->r->plugin));
	uint64_t mono = now_ms(c);
	uint64_t threshold = 3 * c->def->interval_sec(c->r);
	uint64_t tick_ms = c->last_end_ms > c->last_start_ms ? c->last_end_ms
							     : c->last_start_ms;
	const char *state = c->running ? "running" : "waiting";
	json_t *o;

	if (threshold < CYCLE_MIN_STALL_SEC)
		threshold = CYCLE_MIN_STALL_SEC;
	/* A run that never ends waits on a reply that is not coming; a
	 * timer long overdue means the event loop was blocked. */
	*stalled = c->running ? mono - c->last_start_ms > threshold * 1000
			      : mono > c->next_ms + threshold * 1000;
	if (*stalled)
		state = "stalled";
	o = json_pack("{s:s,s:I,s:I}", "state", state,
		      "stall_threshold_seconds", (json_int_t)threshold, "runs",
		      (json_int_t)c->runs);
	if (c->last_error)
		json_object_set_new(o, "last_error", json_string(c->last_error));
	if (tick_ms) {
		json_object_set_new(
			o, "last_tick_ts",
			json_integer((json_int_t)(wall - (mono - tick_ms) / 1000)));
		json_object_set_new(
			o, "last_tick_age_seconds",
			json_integer((json_int_t)((mono - tick_ms) / 1000)));
	} else {
		json_object_set_new(o, "last_tick_ts", json_null());
		json_object_set_new(o, "last_tick_age_seconds", json_null());
	}
	return o;
}
