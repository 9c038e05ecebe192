/* A fixed-window rate limiter keyed by text (peer id, command name):
 * how the RPCs bound policy writes and forced commands. Pure: the caller
 * passes the time. */
#ifndef HIVE_REVENUE_OPS_RATELIMIT_H
#define HIVE_REVENUE_OPS_RATELIMIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit_entry {
	char key[72];
	uint64_t times[16]; /* ring of the latest event times */
	unsigned n, head;
};
struct ratelimit {
	struct ratelimit_entry *e;
	size_t n, cap;
};

/* Would one more event for @key at @now exceed @limit events in
 * @window_sec? Pure (does not record). @limit <= 16. */
bool ratelimit_would_exceed(const struct ratelimit *rl, const char *key,
			    uint64_t now, unsigned limit, uint64_t window_sec);
/* Record one event for @key at @now. */
void ratelimit_note(struct ratelimit *rl, const char *key, uint64_t now);
void ratelimit_free(struct ratelimit *rl);

#endif
