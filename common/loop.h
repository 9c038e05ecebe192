/* A poll() event loop: file descriptors with callbacks, and one-shot timers
 * on the monotonic clock of a struct clock (so under simulated time, timers
 * fire only when the simulator moves the clock). Single-threaded; callbacks
 * may add or remove fds and timers, including their own. */
#ifndef HIVE_COMMON_LOOP_H
#define HIVE_COMMON_LOOP_H
#include <stdbool.h>
#include <stdint.h>

struct clock;
struct loop;
struct loop_timer;

typedef void (*loop_fd_cb)(struct loop *loop, int fd, short revents,
			   void *arg);
typedef void (*loop_timer_cb)(struct loop *loop, void *arg);

/* @clk is borrowed and must outlive the loop. */
struct loop *loop_new(struct clock *clk);
/* Frees pending timers too (their callbacks are not called). */
void loop_free(struct loop *loop);

struct clock *loop_clock(const struct loop *loop);

/* Watch @fd for @events (POLLIN/POLLOUT). One registration per fd:
 * returns false if @fd is already watched. */
bool loop_add_fd(struct loop *loop, int fd, short events, loop_fd_cb cb,
		 void *arg) __attribute__((warn_unused_result));
void loop_set_events(struct loop *loop, int fd, short events);
/* Stop watching @fd (does not close it). Safe inside any callback. */
void loop_remove_fd(struct loop *loop, int fd);

/* Call @cb once, @delay_ms from now. The returned handle stays valid until
 * the callback starts or loop_cancel_timer is called. */
struct loop_timer *loop_add_timer(struct loop *loop, uint64_t delay_ms,
				  loop_timer_cb cb, void *arg);
void loop_cancel_timer(struct loop *loop, struct loop_timer *t);

/* Monotonic deadline of the earliest timer, or UINT64_MAX if none. */
uint64_t loop_next_deadline_ms(const struct loop *loop);
/* Number of timers whose deadline has come (due now, not yet run). */
unsigned loop_due_timers(const struct loop *loop);

/* Run due timers, then poll once for at most @max_wait_ms (-1: until an
 * fd is ready or, on a real clock, the next timer is due), then dispatch.
 * Returns false if there was nothing at all to wait for. */
bool loop_run_once(struct loop *loop, int max_wait_ms);

/* Run until loop_stop(); returns the code given to loop_stop. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop, int code);
bool loop_stopped(const struct loop *loop);

#endif
