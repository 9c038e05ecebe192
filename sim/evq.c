/* Binary-heap event queue; see evq.h. */
#include "sim/evq.h"
#include "common/util.h"
#include <string.h>

void evq_init(struct evq *q)
{
	memset(q, 0, sizeof(*q));
}

void evq_free(struct evq *q)
{
	free(q->heap);
	memset(q, 0, sizeof(*q));
}

static bool before(const struct event *x, const struct event *y)
{
	return x->at_ms < y->at_ms || (x->at_ms == y->at_ms && x->seq < y->seq);
}

void evq_push(struct evq *q, uint64_t at_ms, int type, uint64_t a, uint64_t b,
	      void *ptr)
{
	size_t i;

	xgrow(&q->heap, &q->cap, q->n + 1, sizeof(*q->heap));
	i = q->n++;
	q->heap[i] = (struct event){.at_ms = at_ms,
				    .seq = q->next_seq++,
				    .type = type,
				    .a = a,
				    .b = b,
				    .ptr = ptr};
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&q->heap[i], &q->heap[parent]))
			break;
		struct event t = q->heap[i];
		q->heap[i] = q->heap[parent];
		q->heap[parent] = t;
		i = parent;
	}
}

uint64_t evq_next_ms(const struct evq *q)
{
	return q->n ? q->heap[0].at_ms : UINT64_MAX;
}

bool evq_pop(struct evq *q, struct event *ev)
{
	size_t i = 0;

	if (!q->n)
		return false;
	*ev = q->heap[0];
	q->heap[0] = q->heap[--q->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < q->n && before(&q->heap[l], &q->heap[m]))
			m = l;
		if (r < q->n && before(&q->heap[r], &q->heap[m]))
			m = r;
		if (m == i)
			break;
		struct event t = q->heap[i];
		q->heap[i] = q->heap[m];
		q->heap[m] = t;
		i = m;
	}
	return true;
}
