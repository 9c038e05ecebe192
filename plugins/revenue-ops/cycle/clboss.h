/* CLBOSS coexistence (spec §4.17): when CLBOSS runs and clboss-enabled is
 * on, tell it to leave a peer's fees and balancing to us (clboss-unmanage
 * <peer> lnfee,balance) before we change that peer's fee, and remember
 * it; revenue-remanage hands a peer back. CLBOSS is detected through
 * `plugin list` (cached; re-checked every 5 minutes while absent), so a
 * node without CLBOSS costs one cheap call and no error noise. Dry run
 * sends nothing. */
#ifndef HIVE_REVENUE_OPS_CLBOSS_H
#define HIVE_REVENUE_OPS_CLBOSS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct revenue;

#define CLBOSS_FEE_TAGS "lnfee,balance"

typedef void (*clboss_detect_cb)(struct revenue *r, bool present, void *arg);
/* Is CLBOSS running? Answers from the cache when fresh, else asks
 * lightningd (`plugin list`); @cb may run before this returns. */
void clboss_detect(struct revenue *r, const char *parent_id,
		   clboss_detect_cb cb, void *arg);

typedef void (*clboss_unmanage_cb)(struct revenue *r, const bool *ok,
				   void *arg);
/* clboss-unmanage each of @peers (borrowed until @cb) for
 * CLBOSS_FEE_TAGS, in parallel; @cb gets one success flag per peer ("not
 * managed" counts as success). */
void clboss_unmanage_peers(struct revenue *r, const char *parent_id,
			   char *const *peers, size_t n, clboss_unmanage_cb cb,
			   void *arg);

struct node_view;

/* Hand back to CLBOSS the peers we recorded as unmanaged but no longer
 * manage: no active channel in @v any more, or a passive policy. Other
 * peers stay unmanaged, so a restart does not give CLBOSS their fees back
 * until the next fee cycle takes them again (defect 44). Nothing is sent
 * in a dry run, with the integration off or without CLBOSS. @done runs
 * once at the end (possibly before this returns). */
void clboss_reconcile(struct revenue *r, const struct node_view *v,
		      void (*done)(struct revenue *r, void *arg), void *arg);

#endif
