/* `hive-sim compare`: the plugins against every baseline, on the same
 * payments, over several seeds and fee sensitivities, in one table per
 * sensitivity:
 *
 *   hive-sim compare SCENARIO.json [--days N] [--warmup-days N]
 *        [--seeds 1,2,3] [--sensitivity low,default,high | all]
 *        [--baselines market-median,balance-proportional,oracle,stock]
 *        [--competitor-share X] [--jobs N] [--out DIR] [--plugin-opt N=V]
 *
 * Each (sensitivity, seed, policy) is one `hive-sim run` (a child process
 * of this one, up to --jobs at a time) writing DIR/<sensitivity>/seed<S>/
 * <policy>/; the table gives, per policy, the fleet's fees earned and net
 * profit, forwards settled, the fleet's share of the network's payment
 * volume it forwarded, and fee updates per channel per day, each the
 * mean over the seeds with the lowest and highest seed, and fees as a
 * ratio to market-median (the mean of the per-seed ratios). DIR/
 * compare.json holds every number. */
#ifndef HIVE_SIM_COMPARE_H
#define HIVE_SIM_COMPARE_H

/* @argv: the words after "compare"; @self: this program's path (for the
 * runs). Returns the exit status (0 ok, 1 a run failed, 2 usage). */
int sim_compare(int argc, char **argv, const char *self);

#endif
