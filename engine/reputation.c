/* Peer reputation with time-based fractional decay, and peer uptime; see
 * reputation.h. */
#include "engine/reputation.h"
#include <math.h>

void reputation_params_default(struct reputation_params *p)
{
	p->decay = 0.98;
	p->decay_interval_sec = 3600;
	p->prune_epsilon = 0.01;
}

void reputation_init(struct reputation_state *st, uint64_t now)
{
	st->successes = 0;
	st->failures = 0;
	st->last_update_sec = now;
}

static double decay_factor(const struct reputation_params *p, uint64_t from,
			   uint64_t to)
{
	double intervals;

	if (to <= from || p->decay_interval_sec == 0 || !(p->decay < 1))
		return 1.0;
	if (!(p->decay > 0))
		return 0.0;
	intervals = (double)(to - from) / (double)p->decay_interval_sec;
	return pow(p->decay, intervals);
}

void reputation_decay_to(const struct reputation_params *p,
			 struct reputation_state *st, uint64_t now)
{
	double f;

	if (now <= st->last_update_sec)
		return;
	f = decay_factor(p, st->last_update_sec, now);
	st->successes *= f;
	st->failures *= f;
	st->last_update_sec = now;
}

void reputation_record(const struct reputation_params *p,
		       struct reputation_state *st, bool success,
		       uint64_t now)
{
	reputation_decay_to(p, st, now);
	if (success)
		st->successes += 1;
	else
		st->failures += 1;
}

double reputation_score(const struct reputation_params *p,
			const struct reputation_state *st, uint64_t now)
{
	double f, s, x;

	if (!st)
		return 0.5;
	f = decay_factor(p, st->last_update_sec, now);
	s = st->successes * f;
	x = st->failures * f;
	if (!isfinite(s) || !isfinite(x) || s < 0 || x < 0)
		return 0.5;
	return (s + 1) / (s + x + 2);
}

bool reputation_prunable(const struct reputation_params *p,
			 const struct reputation_state *st, uint64_t now)
{
	double f = decay_factor(p, st->last_update_sec, now);

	return st->successes * f < p->prune_epsilon &&
	       st->failures * f < p->prune_epsilon;
}

static bool is_up(enum reputation_conn_event_type t)
{
	return t != REPUTATION_DISCONNECTED;
}

const char *reputation_uptime(const struct reputation_conn_event *events,
			      size_t n_events, bool connected_now,
			      uint64_t window_start, uint64_t now,
			      struct reputation_uptime *out)
{
	size_t i, first_in = n_events;
	bool up, have_prior = false;
	uint64_t start, t;
	double up_sec = 0;

	*out = (struct reputation_uptime){0};
	if (window_start > now)
		return "uptime: window starts after now";
	for (i = 1; i < n_events; i++)
		if (events[i].time_sec < events[i - 1].time_sec)
			return "uptime: events not sorted by time";

	if (n_events == 0) {
		/* Nothing recorded: only the live state is evidence. A peer
		 * that is not connected now is down (defect 33). */
		out->uptime_pct = connected_now ? 100.0 : 0.0;
		out->basis = "no_history";
		return NULL;
	}

	/* State at the window start: the last event at or before it. */
	up = false;
	for (i = 0; i < n_events; i++) {
		if (events[i].time_sec > window_start) {
			first_in = i;
			break;
		}
		up = is_up(events[i].type);
		have_prior = true;
	}
	if (have_prior) {
		start = window_start;
	} else {
		start = events[first_in].time_sec;
		up = is_up(events[first_in].type);
	}
	if (start > now)
		start = now;

	t = start;
	for (i = first_in; i < n_events && events[i].time_sec <= now; i++) {
		if (up)
			up_sec += (double)(events[i].time_sec - t);
		t = events[i].time_sec;
		if (events[i].type == REPUTATION_DISCONNECTED)
			out->disconnects++;
		up = is_up(events[i].type);
	}
	if (up)
		up_sec += (double)(now - t);

	out->span_sec = (double)(now - start);
	out->up_sec = up_sec;
	if (out->span_sec < 60) {
		/* Too short to measure: report the state now. */
		out->uptime_pct = up ? 100.0 : 0.0;
		out->basis = "short_span";
		return NULL;
	}
	out->uptime_pct = 100.0 * up_sec / out->span_sec;
	if (out->uptime_pct > 100)
		out->uptime_pct = 100;
	if (out->uptime_pct < 0)
		out->uptime_pct = 0;
	out->basis = "events";
	return NULL;
}

double reputation_flap_factor(double uptime_pct)
{
	if (!(uptime_pct > 0))
		return 0;
	if (uptime_pct >= 100)
		return 1;
	return uptime_pct / 100.0;
}

bool reputation_uptime_stable(double uptime_pct, double min_pct)
{
	return uptime_pct >= min_pct;
}
