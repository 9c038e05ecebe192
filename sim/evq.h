/* The simulation's event queue: a binary heap ordered by (time, insertion
 * sequence), so events at the same instant run in the order they were
 * scheduled and every run replays identically. */
#ifndef HIVE_SIM_EVQ_H
#define HIVE_SIM_EVQ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event {
	uint64_t at_ms;
	uint64_t seq;
	int type;	/* owner-defined */
	uint64_t a, b;	/* owner-defined payload */
	void *ptr;	/* owner-defined payload */
};

struct evq {
	struct event *heap;
	size_t n, cap;
	uint64_t next_seq;
};

void evq_init(struct evq *q);
void evq_free(struct evq *q);
void evq_push(struct evq *q, uint64_t at_ms, int type, uint64_t a, uint64_t b,
	      void *ptr);
/* Earliest event time, or UINT64_MAX when empty. */
uint64_t evq_next_ms(const struct evq *q);
/* Pop the earliest event into *ev; false when empty. */
bool evq_pop(struct evq *q, struct event *ev);

#endif
