/* Unit tests for common/loop.c: timers in deadline order and FIFO among
 * equal deadlines, cancellation, callbacks that add and remove fds and
 * timers (their own included), simulated time (timers fire only when the
 * clock is moved), a real-clock timer waited for by poll, and loop_run /
 * loop_stop. */
#include "common/clock.h"
#include "common/loop.h"
#include "tests/check.h"
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1000000ULL /* simulated start, ms */

/* A log of what fired, as text, so an order mismatch prints itself. */
static char fired[512];

static void note(const char *what)
{
	if (fired[0])
		strcat(fired, " ");
	strcat(fired, what);
}

static void timer_note(struct loop *loop, void *arg)
{
	note(arg);
}

static struct clock *sim_clock(uint64_t ms)
{
	struct clock *clk = clock_new();
	if (!clock_set_simulated_ms(clk, ms))
		abort();
	return clk;
}

static void advance(struct clock *clk, uint64_t to)
{
	if (!clock_set_simulated_ms(clk, to))
		abort();
}

static void test_order(void)
{
	struct clock *clk = sim_clock(T0);
	struct loop *loop = loop_new(clk);
	struct loop_timer *cancelled;

	CHECK(loop_clock(loop) == clk, "loop_clock");
	CHECK(loop_next_deadline_ms(loop) == UINT64_MAX,
	      "no timers: next deadline UINT64_MAX");
	CHECK(!loop_run_once(loop, -1),
	      "nothing to wait for: loop_run_once returns false");

	fired[0] = '\0';
	loop_add_timer(loop, 30, timer_note, "c30");
	loop_add_timer(loop, 10, timer_note, "a10");
	loop_add_timer(loop, 20, timer_note, "b20");
	loop_add_timer(loop, 10, timer_note, "a10-second");
	cancelled = loop_add_timer(loop, 15, timer_note, "cancelled15");
	loop_add_timer(loop, 20, timer_note, "b20-second");
	loop_add_timer(loop, 10, timer_note, "a10-third");
	loop_add_timer(loop, 0, timer_note, "zero");
	loop_cancel_timer(loop, cancelled);

	CHECK(loop_next_deadline_ms(loop) == T0,
	      "next deadline is the zero-delay timer (%" PRIu64 ")",
	      loop_next_deadline_ms(loop));
	CHECK_EQ_INT(loop_due_timers(loop), 1, "one timer due at T0");
	CHECK(loop_run_once(loop, 0), "run once");
	CHECK_EQ_STR(fired, "zero", "only the due timer fired");

	/* Time stands still: polling again fires nothing. */
	fired[0] = '\0';
	for (int i = 0; i < 5; i++)
		(void)loop_run_once(loop, 0);
	CHECK_EQ_STR(fired, "", "nothing fires while the clock stands still");
	CHECK_EQ_INT(loop_due_timers(loop), 0, "none due before moving");
	CHECK(loop_next_deadline_ms(loop) == T0 + 10, "next deadline T0+10");

	advance(clk, T0 + 9);
	CHECK_EQ_INT(loop_due_timers(loop), 0, "none due at T0+9");
	(void)loop_run_once(loop, 0);
	CHECK_EQ_STR(fired, "", "nothing fires at T0+9");

	advance(clk, T0 + 10);
	CHECK_EQ_INT(loop_due_timers(loop), 3, "three due at T0+10");
	(void)loop_run_once(loop, 0);
	CHECK_EQ_STR(fired, "a10 a10-second a10-third",
		     "equal deadlines fire in FIFO order");

	/* Jumping past several deadlines fires them all, in order, and the
	 * cancelled one never. */
	fired[0] = '\0';
	advance(clk, T0 + 1000);
	CHECK_EQ_INT(loop_due_timers(loop), 3, "three due at T0+1000");
	(void)loop_run_once(loop, 0);
	CHECK_EQ_STR(fired, "b20 b20-second c30",
		     "deadline order after a jump; cancelled never fires");
	CHECK(loop_next_deadline_ms(loop) == UINT64_MAX, "no timers left");

	/* Pending timers are freed with the loop, callbacks not called. */
	fired[0] = '\0';
	loop_add_timer(loop, 5, timer_note, "never");
	loop_add_timer(loop, 0, timer_note, "never-either");
	loop_free(loop);
	CHECK_EQ_STR(fired, "", "loop_free does not run pending timers");
	clock_free(clk);
}

/* --- callbacks that change the loop --- */

struct juggler {
	struct loop *loop;
	struct loop_timer *victim;
	struct loop_timer *self_cancel_target;
	int pipe_a[2], pipe_b[2];
	int a_calls, b_calls;
};

static void cb_zero_from_callback(struct loop *loop, void *arg)
{
	note("zero-from-callback");
}

static void cb_later(struct loop *loop, void *arg)
{
	note("later");
}

static void cb_juggle(struct loop *loop, void *arg)
{
	struct juggler *j = arg;

	note("juggle");
	/* Cancel a timer due in this same pass. */
	loop_cancel_timer(loop, j->victim);
	/* A zero-delay timer added now runs in this same pass. */
	loop_add_timer(loop, 0, cb_zero_from_callback, j);
	/* A later one waits for the clock. */
	loop_add_timer(loop, 50, cb_later, j);
}

static void test_timer_callbacks(void)
{
	struct clock *clk = sim_clock(T0);
	struct loop *loop = loop_new(clk);
	struct juggler j = {.loop = loop};

	fired[0] = '\0';
	loop_add_timer(loop, 10, cb_juggle, &j);
	j.victim = loop_add_timer(loop, 10, timer_note, "victim");
	loop_add_timer(loop, 10, timer_note, "after-victim");
	advance(clk, T0 + 10);
	(void)loop_run_once(loop, 0);
	CHECK_EQ_STR(fired, "juggle after-victim zero-from-callback",
		     "a callback cancels a due timer and adds a zero-delay "
		     "one that runs in the same pass");
	fired[0] = '\0';
	advance(clk, T0 + 59);
	(void)loop_run_once(loop, 0);
	CHECK_EQ_STR(fired, "", "the 50 ms timer waits (T0+59)");
	advance(clk, T0 + 60);
	(void)loop_run_once(loop, 0);
	CHECK_EQ_STR(fired, "later", "the 50 ms timer fires at T0+60");
	loop_free(loop);
	clock_free(clk);
}

/* fd callbacks: a reads its pipe, removes b's watch (b has data in the
 * same pass) and adds a watch on c. */
struct fdtest {
	struct loop *loop;
	int a[2], b[2], c[2];
	int a_calls, b_calls, c_calls;
	bool a_remove_self;
};

static void drain(int fd)
{
	char buf[64];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void cb_c(struct loop *loop, int fd, short rev, void *arg)
{
	struct fdtest *t = arg;
	t->c_calls++;
	drain(fd);
	/* Remove itself from inside its own callback. */
	loop_remove_fd(loop, fd);
}

static void cb_b(struct loop *loop, int fd, short rev, void *arg)
{
	struct fdtest *t = arg;
	t->b_calls++;
	drain(fd);
}

static void cb_a(struct loop *loop, int fd, short rev, void *arg)
{
	struct fdtest *t = arg;
	t->a_calls++;
	drain(fd);
	if (t->a_calls == 1) {
		loop_remove_fd(loop, t->b[0]);
		if (!loop_add_fd(loop, t->c[0], POLLIN, cb_c, t))
			abort();
		loop_add_timer(loop, 0, timer_note, "timer-from-fd-cb");
	}
}

static void set_nonblock_pipe(int p[2])
{
	if (pipe2(p, O_NONBLOCK) != 0)
		abort();
}

static void test_fd_callbacks(void)
{
	struct clock *clk = sim_clock(T0);
	struct loop *loop = loop_new(clk);
	struct fdtest t = {.loop = loop};

	set_nonblock_pipe(t.a);
	set_nonblock_pipe(t.b);
	set_nonblock_pipe(t.c);
	CHECK(loop_add_fd(loop, t.a[0], POLLIN, cb_a, &t), "add a");
	CHECK(loop_add_fd(loop, t.b[0], POLLIN, cb_b, &t), "add b");
	CHECK(!loop_add_fd(loop, t.a[0], POLLIN, cb_b, &t),
	      "a second registration of the same fd is refused");

	/* a and b both readable in the same poll; c readable but not yet
	 * watched. */
	if (write(t.a[1], "x", 1) != 1 || write(t.b[1], "y", 1) != 1 ||
	    write(t.c[1], "z", 1) != 1)
		abort();
	fired[0] = '\0';
	CHECK(loop_run_once(loop, 1000), "run once with fds ready");
	CHECK_EQ_INT(t.a_calls, 1, "a's callback ran");
	CHECK_EQ_INT(t.b_calls, 0,
		     "b removed by a's callback before its turn: not called");
	CHECK_EQ_STR(fired, "timer-from-fd-cb",
		     "a zero-delay timer added by an fd callback ran in the "
		     "same loop_run_once");

	CHECK(loop_run_once(loop, 1000), "run once: c now watched");
	CHECK_EQ_INT(t.c_calls, 1, "c's callback ran after being added");
	CHECK_EQ_INT(t.b_calls, 0, "b still not called");

	/* c removed itself: more data on c is ignored. b can be re-added. */
	if (write(t.c[1], "z", 1) != 1 || write(t.b[1], "y", 1) != 1)
		abort();
	CHECK(loop_add_fd(loop, t.b[0], POLLIN, cb_b, &t),
	      "b re-added after removal");
	CHECK(loop_run_once(loop, 1000), "run once");
	CHECK_EQ_INT(t.c_calls, 1, "c removed itself: not called again");
	CHECK_EQ_INT(t.b_calls, 1, "re-added b is called");

	/* Events 0: watched but never reported readable. */
	if (write(t.a[1], "x", 1) != 1)
		abort();
	loop_set_events(loop, t.a[0], 0);
	loop_remove_fd(loop, t.b[0]);
	CHECK(loop_run_once(loop, 0), "run once with events 0");
	CHECK_EQ_INT(t.a_calls, 1, "a with events 0 not called");
	loop_set_events(loop, t.a[0], POLLIN);
	CHECK(loop_run_once(loop, 0), "run once with events POLLIN");
	CHECK_EQ_INT(t.a_calls, 2, "a called again once POLLIN is back");

	/* Remove the rest: with no fds and no timers there is nothing to
	 * wait for. */
	loop_remove_fd(loop, t.a[0]);
	loop_remove_fd(loop, t.a[0]); /* twice is harmless */
	CHECK(!loop_run_once(loop, -1), "no fds, no timers: false");

	for (int i = 0; i < 2; i++) {
		close(t.a[i]);
		close(t.b[i]);
		close(t.c[i]);
	}
	loop_free(loop);
	clock_free(clk);
}

/* --- loop_run and loop_stop --- */

struct stopper {
	int count;
};

static void cb_tick(struct loop *loop, void *arg)
{
	struct stopper *s = arg;
	if (++s->count == 5)
		loop_stop(loop, 42);
	else
		loop_add_timer(loop, 0, cb_tick, s);
}

static void cb_after_stop(struct loop *loop, void *arg)
{
	note("after-stop");
}

static void test_run_stop(void)
{
	struct clock *clk = sim_clock(T0);
	struct loop *loop = loop_new(clk);
	struct stopper s = {0};

	fired[0] = '\0';
	loop_add_timer(loop, 0, cb_tick, &s);
	loop_add_timer(loop, 0, cb_after_stop, NULL);
	CHECK(!loop_stopped(loop), "not stopped yet");
	CHECK_EQ_INT(loop_run(loop), 42, "loop_run returns loop_stop's code");
	CHECK(loop_stopped(loop), "stopped");
	CHECK_EQ_INT(s.count, 5, "re-arming timer ran 5 times");
	/* cb_after_stop was queued before the re-armed ticks: it ran
	 * (FIFO), and nothing runs after the stop. */
	CHECK_EQ_STR(fired, "after-stop", "FIFO with re-armed zero timers");
	loop_free(loop);
	clock_free(clk);

	/* loop_run on a simulated clock with only future timers returns
	 * (nothing can move the clock). */
	clk = sim_clock(T0);
	loop = loop_new(clk);
	loop_add_timer(loop, 100, timer_note, "future");
	CHECK_EQ_INT(loop_run(loop), 0,
		     "simulated clock, only future timers: loop_run returns");
	CHECK_EQ_INT(loop_due_timers(loop), 0, "future timer still pending");
	loop_free(loop);
	clock_free(clk);
}

/* A real clock: loop_run_once(-1) waits in poll() for the timer's
 * deadline rather than spinning or returning early. */
static void test_real_clock(void)
{
	struct clock *clk = clock_new();
	struct loop *loop = loop_new(clk);
	uint64_t start = clock_mono_ms(clk), end;
	int passes = 0;

	fired[0] = '\0';
	loop_add_timer(loop, 30, timer_note, "real30");
	while (!fired[0] && passes < 100) {
		(void)loop_run_once(loop, -1);
		passes++;
	}
	end = clock_mono_ms(clk);
	CHECK_EQ_STR(fired, "real30", "real-clock timer fired");
	CHECK(end - start >= 30, "it fired no earlier than 30 ms (%" PRIu64
	      " ms)", end - start);
	CHECK(passes <= 3, "poll waited for the deadline (%d passes)",
	      passes);
	loop_free(loop);
	clock_free(clk);
}

int main(void)
{
	test_order();
	test_timer_callbacks();
	test_fd_callbacks();
	test_run_stop();
	test_real_clock();
	return check_done();
}
