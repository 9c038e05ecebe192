/* poll() loop with a sorted timer list; see loop.h. Timer counts are small
 * (a handful of cycles and timeouts), so a sorted list is both simplest and
 * fast enough. */
#include "common/loop.h"
#include "common/clock.h"
#include "common/util.h"
#include <errno.h>
#include <poll.h>
#include <string.h>

struct watch {
	int fd;
	short events;
	loop_fd_cb cb;
	void *arg;
	bool removed;
};

struct loop_timer {
	struct loop_timer *next;
	uint64_t deadline_ms;
	uint64_t seq; /* FIFO order among equal deadlines */
	loop_timer_cb cb;
	void *arg;
};

struct loop {
	struct clock *clk;
	struct watch *watches;
	size_t nwatches, capwatches;
	struct pollfd *pfds;
	size_t cappfds;
	struct loop_timer *timers;
	uint64_t timer_seq;
	bool stopped;
	int stop_code;
	int dispatching; /* >0 while iterating watches: defer compaction */
};

struct loop *loop_new(struct clock *clk)
{
	struct loop *loop = xzalloc(sizeof(*loop));
	loop->clk = clk;
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	while (loop->timers) {
		struct loop_timer *t = loop->timers;
		loop->timers = t->next;
		free(t);
	}
	free(loop->watches);
	free(loop->pfds);
	free(loop);
}

struct clock *loop_clock(const struct loop *loop)
{
	return loop->clk;
}

static struct watch *find_watch(struct loop *loop, int fd)
{
	for (size_t i = 0; i < loop->nwatches; i++)
		if (loop->watches[i].fd == fd && !loop->watches[i].removed)
			return &loop->watches[i];
	return NULL;
}

bool loop_add_fd(struct loop *loop, int fd, short events, loop_fd_cb cb,
		 void *arg)
{
	if (find_watch(loop, fd))
		return false;
	xgrow(&loop->watches, &loop->capwatches, loop->nwatches + 1,
	      sizeof(*loop->watches));
	loop->watches[loop->nwatches++] = (struct watch){
		.fd = fd, .events = events, .cb = cb, .arg = arg};
	return true;
}

void loop_set_events(struct loop *loop, int fd, short events)
{
	struct watch *w = find_watch(loop, fd);
	if (w)
		w->events = events;
}

static void compact_watches(struct loop *loop)
{
	size_t j = 0;
	for (size_t i = 0; i < loop->nwatches; i++)
		if (!loop->watches[i].removed)
			loop->watches[j++] = loop->watches[i];
	loop->nwatches = j;
}

void loop_remove_fd(struct loop *loop, int fd)
{
	struct watch *w = find_watch(loop, fd);
	if (!w)
		return;
	w->removed = true;
	if (!loop->dispatching)
		compact_watches(loop);
}

struct loop_timer *loop_add_timer(struct loop *loop, uint64_t delay_ms,
				  loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = xzalloc(sizeof(*t)), **pp;

	t->deadline_ms = clock_mono_ms(loop->clk) + delay_ms;
	t->seq = loop->timer_seq++;
	t->cb = cb;
	t->arg = arg;
	for (pp = &loop->timers; *pp; pp = &(*pp)->next)
		if ((*pp)->deadline_ms > t->deadline_ms)
			break;
	t->next = *pp;
	*pp = t;
	return t;
}

void loop_cancel_timer(struct loop *loop, struct loop_timer *t)
{
	for (struct loop_timer **pp = &loop->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			free(t);
			return;
		}
	}
}

uint64_t loop_next_deadline_ms(const struct loop *loop)
{
	return loop->timers ? loop->timers->deadline_ms : UINT64_MAX;
}

unsigned loop_due_timers(const struct loop *loop)
{
	uint64_t now = clock_mono_ms(loop->clk);
	unsigned n = 0;

	for (const struct loop_timer *t = loop->timers; t; t = t->next) {
		if (t->deadline_ms > now)
			break;
		n++;
	}
	return n;
}

/* Run every timer due now. A timer added by a callback for "now" runs in
 * this same pass, which is what a zero-delay deferral wants. */
static void run_due_timers(struct loop *loop)
{
	while (loop->timers && !loop->stopped) {
		struct loop_timer *t = loop->timers;
		if (t->deadline_ms > clock_mono_ms(loop->clk))
			break;
		loop->timers = t->next;
		loop_timer_cb cb = t->cb;
		void *arg = t->arg;
		free(t);
		cb(loop, arg);
	}
}

bool loop_run_once(struct loop *loop, int max_wait_ms)
{
	int timeout = max_wait_ms;
	size_t n;
	int r;

	run_due_timers(loop);
	if (loop->stopped)
		return true;

	if (loop->timers && !clock_is_simulated(loop->clk)) {
		uint64_t now = clock_mono_ms(loop->clk);
		uint64_t wait = loop->timers->deadline_ms > now
					? loop->timers->deadline_ms - now
					: 0;
		if (wait > 60000)
			wait = 60000;
		if (timeout < 0 || (uint64_t)timeout > wait)
			timeout = (int)wait;
	} else if (loop->timers && loop_due_timers(loop)) {
		timeout = 0;
	}
	if (loop->nwatches == 0 && timeout < 0)
		return false;

	xgrow(&loop->pfds, &loop->cappfds, loop->nwatches,
	      sizeof(*loop->pfds));
	n = loop->nwatches;
	for (size_t i = 0; i < n; i++) {
		loop->pfds[i].fd = loop->watches[i].fd;
		loop->pfds[i].events = loop->watches[i].events;
		loop->pfds[i].revents = 0;
	}
	r = poll(loop->pfds, n, timeout);
	if (r < 0) {
		/* EINTR is a signal; anything else cannot happen with valid
		 * arguments, and retrying next pass is the only sane move. */
		return true;
	}

	loop->dispatching++;
	for (size_t i = 0; i < n && !loop->stopped; i++) {
		short rev = loop->pfds[i].revents;
		struct watch *w;
		if (!rev)
			continue;
		/* The watch may have been removed (or its slot reused) by an
		 * earlier callback in this pass: look it up by fd. */
		w = find_watch(loop, loop->pfds[i].fd);
		if (!w)
			continue;
		w->cb(loop, w->fd, rev, w->arg);
	}
	loop->dispatching--;
	if (!loop->dispatching)
		compact_watches(loop);
	run_due_timers(loop);
	return true;
}

int loop_run(struct loop *loop)
{
	while (!loop->stopped) {
		if (!loop_run_once(loop, -1))
			break;
	}
	return loop->stop_code;
}

void loop_stop(struct loop *loop, int code)
{
	loop->stopped = true;
	loop->stop_code = code;
}

bool loop_stopped(const struct loop *loop)
{
	return loop->stopped;
}
