/* The rate limiter; see ratelimit.h. */
#include "plugins/revenue-ops/base/ratelimit.h"
#include "common/util.h"
#include <stdio.h>
#include <string.h>

static struct ratelimit_entry *rl_find(const struct ratelimit *rl,
				       const char *key)
{
	for (size_t i = 0; i < rl->n; i++)
		if (!strcmp(rl->e[i].key, key))
			return &rl->e[i];
	return NULL;
}

static unsigned rl_count(const struct ratelimit_entry *e, uint64_t now,
			 uint64_t window_sec)
{
	unsigned c = 0;
	for (unsigned i = 0; i < e->n; i++)
		if (e->times[i] + window_sec > now)
			c++;
	return c;
}

bool ratelimit_would_exceed(const struct ratelimit *rl, const char *key,
			    uint64_t now, unsigned limit, uint64_t window_sec)
{
	const struct ratelimit_entry *e = rl_find(rl, key);
	return e && rl_count(e, now, window_sec) >= limit;
}

void ratelimit_note(struct ratelimit *rl, const char *key, uint64_t now)
{
	struct ratelimit_entry *e = rl_find(rl, key);

	if (!e) {
		/* Reuse an entry whose events are all old (an hour: longer
		 * than any window we use), so the table stays small. */
		for (size_t i = 0; i < rl->n && !e; i++)
			if (rl_count(&rl->e[i], now, 3600) == 0)
				e = &rl->e[i];
		if (!e) {
			xgrow(&rl->e, &rl->cap, rl->n + 1, sizeof(*rl->e));
			e = &rl->e[rl->n++];
		}
		memset(e, 0, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", key);
	}
	e->times[e->head] = now;
	e->head = (e->head + 1) % ARRAY_SIZE(e->times);
	if (e->n < ARRAY_SIZE(e->times))
		e->n++;
}

void ratelimit_free(struct ratelimit *rl)
{
	free(rl->e);
	memset(rl, 0, sizeof(*rl));
}
