/* Peer reputation (spec §4.4) and uptime / flap protection (§4.5) on top
 * of the forward store and the connect/disconnect notifications.
 *
 * Reputation is reconciled from the forwards table, not from
 * notifications: each flow cycle counts the forwards that reached a final
 * state since its cursor (settled: success, failed downstream: failure,
 * local failures ignored) for the peer of the incoming channel, decaying
 * the REAL counts by elapsed time (engine/reputation.h). Reading a score
 * never writes (defect 38).
 *
 * Uptime comes from peer_events; pruning keeps each peer's latest event,
 * and a peer with no history that is not connected now is down
 * (defect 33). */
#ifndef HIVE_REVENUE_OPS_PEERS_H
#define HIVE_REVENUE_OPS_PEERS_H
#include "engine/reputation.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fwd_stats;
struct node_view;
struct revenue;

/* Store one connection event ("connected", "disconnected", "snapshot")
 * in its own small transaction. */
bool peers_record_event(struct revenue *r, const char *peer_id,
			const char *event, uint64_t now, char **err)
    __attribute__((warn_unused_result));

/* At startup (first flow cycle): a "snapshot" event for each connected
 * channel peer without an event in the last hour, so uptime has a
 * baseline. In the caller's transaction. */
bool peers_snapshot(struct revenue *r, const struct node_view *v, uint64_t now,
		    char **err) __attribute__((warn_unused_result));

/* Uptime of @peer_id over [window_start, now]. */
bool peers_uptime(struct revenue *r, const char *peer_id, bool connected_now,
		  uint64_t window_start, uint64_t now,
		  struct reputation_uptime *out, char **err)
    __attribute__((warn_unused_result));

/* The stored reputation row of @peer_id (*found false: none). */
bool peers_reputation_get(struct revenue *r, const char *peer_id,
			  struct reputation_state *out, bool *found, char **err)
    __attribute__((warn_unused_result));

/* Fold the forwards finalised since the cursor into peer_reputation and
 * delete rows that carry no information any more. Forwards on channels
 * not in @v (closed) are skipped. In the caller's transaction. Writes the
 * number of forwards counted to *counted. */
bool peers_reputation_update(struct revenue *r, const struct node_view *v,
			     const struct reputation_params *p, uint64_t now,
			     uint64_t *counted, char **err)
    __attribute__((warn_unused_result));

/* Delete connection events before @cutoff, except each peer's latest
 * one. In the caller's transaction. */
bool peers_prune_events(struct revenue *r, uint64_t cutoff, uint64_t *deleted,
			char **err) __attribute__((warn_unused_result));

/* HTLC hold time of forwards out through @scids (in that order) that
 * window @w of @fs counts: average and standard deviation in seconds
 * (*n = 0: no data). */
void peers_hold_stats(const struct fwd_stats *fs, size_t w,
		      const char *const *scids, size_t nscids, double *avg_sec,
		      double *std_sec, uint64_t *n);

/* Group channels by peer in linear-logarithmic time: for @n peer ids,
 * first[i] is the lowest index with the same id as i, next[i] the next
 * higher one (or n after the last). */
void peers_group(const char *const *peer_ids, size_t n, size_t *first,
		 size_t *next);

#endif
