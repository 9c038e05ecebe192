#!/usr/bin/env python3
"""cl-revenue-ops' report RPCs under `hive-sim serve`: the output fields
of revenue-profitability, revenue-dashboard, revenue-report (summary,
peer, costs, policies, hive), revenue-history, revenue-capacity-report and
the four portfolio methods; every report is read-only (defect 38: the
database is byte-for-byte the same after all of them); bad input gives
JSON-RPC errors (unknown channel or peer 1101 naming it, bad parameters
-32602) and the reference's clamps where it clamps."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hivetest import Serve, Tap, busy_node_scenario  # noqa: E402

t = Tap()
DAY = 86400
UNKNOWN_PEER = "02" + "ab" * 32


def scenario():
    return busy_node_scenario("it-reports", 9)


ACCOUNTING_TABLES = ("forwards", "forward_daily", "channel_costs", "channel_scids",
                     "channel_splices", "rebalance_costs", "channel_closure_costs",
                     "closed_channels", "financial_snapshots", "peer_policies")


def dump(s):
    con = sqlite3.connect(os.path.join(s.nodes["alice"]["dir"], "revenue_ops.db"))
    out = {tb: sorted(con.execute("SELECT * FROM %s" % tb).fetchall()) for tb in ACCOUNTING_TABLES}
    con.close()
    return out


def reports(t):
    s = Serve(scenario()).start()
    try:
        a = s.rpc("alice")
        a.call("dev-sim-advance", {"seconds": 14 * DAY})
        scids = [c["short_channel_id"] for c in a.call("listpeerchannels")["channels"]]
        peer = a.call("listpeerchannels")["channels"][0]["peer_id"]
        a.call("revenue-policy", {"action": "set", "peer_id": peer, "strategy": "passive"})
        # A cycle reconciles the forward store with listforwards: after it
        # every forward of the advance is stored.
        a.call("revenue-cycle", ["fees"])
        before = dump(s)

        # revenue-profitability: the reference's fields.
        p = a.call("revenue-profitability", [scids[0]])
        t.eq(p["channel_id"], scids[0], "profitability names the channel")
        want = {"total_costs_sats", "total_contribution_sats", "net_profit_sats", "roi_percentage",
                "profitability_class", "days_active", "fee_multiplier", "outbound_flow",
                "inbound_flow", "flow_profile", "inbound_outbound_ratio", "total_revenue_sats",
                "volume_routed_sats", "forward_count", "sourced_forward_count",
                "total_forward_count", "fees_earned_sats", "sourced_fee_contribution_sats",
                "sourced_volume_sats", "marginal_roi_pct", "bleeder_status", "window_30d",
                "annualized_roc_pct", "thresholds"}
        t.ok(want <= set(p["profitability"]), "single-channel fields",
             sorted(want - set(p["profitability"])))
        pp = p["profitability"]
        t.eq(set(pp["outbound_flow"]), {"payment_count", "volume_sats", "revenue_earned_sats"},
             "outbound_flow fields")
        t.eq(set(pp["inbound_flow"]), {"payment_count", "volume_sats",
                                       "contribution_to_other_channels_sats"}, "inbound_flow fields")
        t.eq(pp["total_forward_count"], pp["forward_count"] + pp["sourced_forward_count"],
             "total_forward_count")
        t.eq(pp["total_contribution_sats"], max(pp["fees_earned_sats"],
                                                pp["sourced_fee_contribution_sats"]),
             "contribution = max(exit fees, sourced fees)")
        t.ok(pp["flow_profile"] in ("inbound_dominant", "outbound_dominant", "balanced", "inactive"),
             "flow_profile values")
        t.eq(pp["thresholds"], {"profitable_roi_pct": 10.0, "underwater_roi_pct": -10.0},
             "thresholds shown (fee posterior unknown: the default ones)")
        allp = a.call("revenue-profitability")
        sm = allp["summary"]
        t.ok({"total_channels", "profitable_count", "break_even_count", "underwater_count",
              "stagnant_candidate_count", "zombie_count", "total_profit_sats", "total_revenue_sats",
              "total_contribution_sats", "total_costs_sats", "overall_roi_pct",
              "flow_profiles"} <= set(sm), "summary fields", sm)
        t.eq(sum(sm[k] for k in ("profitable_count", "break_even_count", "underwater_count",
                                 "stagnant_candidate_count", "zombie_count")), 5, "class counts add up")
        entry = [e for v in allp["channels_by_class"].values() for e in v][0]
        t.ok({"channel_id", "net_profit_sats", "roi_percentage", "days_active", "flow_profile",
              "forward_count", "sourced_forward_count", "fees_earned_sats", "volume_routed_sats",
              "total_forward_count", "sourced_fee_contribution_sats", "sourced_volume_sats",
              "total_contribution_sats"} <= set(entry), "channels_by_class entry fields", entry)
        t.ok(a.call("revenue-profitability", {"refresh": True})["summary"]["total_channels"] == 5,
             "refresh accepted")

        # revenue-dashboard and revenue-report.
        d = a.call("revenue-dashboard")
        t.eq(set(d["financial_health"]), {"tlv_sats", "net_profit_sats", "operating_margin_pct",
                                          "annualized_roc_pct"}, "financial_health fields")
        t.ok({"window_days", "gross_revenue_sats", "opex_sats", "rebalance_cost_sats",
              "closure_cost_sats", "splice_cost_sats", "volume_sats", "forward_count"}
             <= set(d["period"]), "period fields")
        t.eq(d["period"]["window_days"], 30, "default window 30 days")
        t.ok(isinstance(d["warnings"], list) and isinstance(d["bleeder_count"], int),
             "warnings and bleeder_count")
        funds = a.call("listfunds")
        tlv = sum(c["our_amount_msat"] for c in funds["channels"]) // 1000 + \
            sum(o["amount_msat"] for o in funds["outputs"] if o["status"] == "confirmed") // 1000
        t.ok(abs(d["financial_health"]["tlv_sats"] - tlv) <= 5,
             "TLV = channel balances + confirmed on-chain", (d["financial_health"], tlv))
        rs = a.call("revenue-report")
        t.ok({"type", "lifetime", "profitability", "channels", "financial_health", "period",
              "warnings", "bleeder_count"} <= set(rs), "summary report fields", sorted(rs))
        t.eq(a.call("revenue-report", ["summary", None, 7])["period"]["window_days"], 7,
             "summary report window")
        rp = a.call("revenue-report", ["peer", peer])
        t.eq(rp["policy"]["strategy"], "passive", "peer report shows the peer's policy")
        t.ok({"type", "peer_id", "policy", "profitability", "flow_state", "flow_states"} <= set(rp),
             "peer report fields")
        pol = a.call("revenue-report", ["policies"])
        t.eq((pol["type"], pol["policies"]["total"], pol["policies"]["by_strategy"].get("passive")),
             ("policies", 1, 1), "policies report")
        t.eq(a.call("revenue-report", ["hive"])["type"], "hive", "hive report")
        c = a.call("revenue-report", ["costs"])
        t.eq(set(c["closure_costs"]), {"last_24h_sats", "last_7d_sats", "last_30d_sats", "total_sats"},
             "costs report windows")
        t.eq(c["estimated_defaults"], {"channel_open_sats": 5000, "channel_close_sats": 3000,
                                       "splice_sats": 2000}, "estimated_defaults")

        h = a.call("revenue-history")
        t.ok({"lifetime_revenue_sats", "lifetime_opening_costs_sats", "lifetime_closure_costs_sats",
              "lifetime_rebalance_costs_sats", "lifetime_total_costs_sats", "lifetime_net_profit_sats",
              "lifetime_roi_percent", "lifetime_forward_count", "closed_channels_summary"} <= set(h),
             "history fields")
        t.eq(set(h["closed_channels_summary"]), {"channel_count", "total_capacity", "total_open_costs",
                                                 "total_closure_costs", "total_revenue",
                                                 "total_rebalance_costs", "total_forwards",
                                                 "total_net_pnl", "avg_days_open"},
             "closed_channels_summary fields")
        t.eq(h["lifetime_net_profit_sats"], h["lifetime_revenue_sats"] - h["lifetime_total_costs_sats"],
             "net = revenue - costs")

        cap = a.call("revenue-capacity-report")
        t.eq((cap["status"], cap["read_only"]), ("ok", True), "capacity report: read only")
        t.eq(cap["summary"]["channels_analyzed"], 5, "capacity report analysed every channel")
        t.ok(all(r["action"] in ("increase_capacity", "close", "reduce_fees")
                 for r in cap["recommendations"]), "recommendation actions")

        # Portfolio.
        pf = a.call("revenue-portfolio")
        t.eq(pf["status"], "ok", "portfolio ok")
        t.ok({"summary", "channel_statistics", "optimal_allocations", "recommendations",
              "correlations", "hedging_opportunities", "concentration_risks"} <= set(pf),
             "portfolio fields")
        t.eq(len(pf["channel_statistics"]), 5, "statistics per channel")
        t.ok(abs(sum(x["optimal_weight"] for x in pf["optimal_allocations"]) - 1) < 0.01,
             "optimal weights sum to 1")
        t.ok(pf["summary"]["optimal"]["utility"] >= pf["summary"]["current"]["utility"] - 1e-6,
             "the optimum is no worse than today")
        t.eq(a.call("revenue-portfolio", [50])["summary"]["risk_aversion"], 10.0,
             "risk_aversion clamped to 10")
        ps = a.call("revenue-portfolio-summary")
        t.ok({"status", "summary", "improvement_potential_pct", "recommendation_count",
              "hedging_opportunities", "concentration_risks"} <= set(ps), "portfolio-summary fields")
        pr = a.call("revenue-portfolio-rebalance", [1])
        t.ok(pr["recommendation_count"] <= 1 and len(pr["recommendations"]) == pr["recommendation_count"],
             "max_recommendations honoured")
        t.eq(a.call("revenue-portfolio-rebalance", [1000])["status"], "ok", "max clamped, not refused")
        pc = a.call("revenue-portfolio-correlations", {"min_correlation": 0.1})
        t.ok(pc["total_pairs"] <= 10 and len(pc["all_correlations"]) == pc["total_pairs"],
             "all pairs listed")
        t.ok(all(x["relationship"] in ("hedging", "correlated", "independent")
                 for x in pc["all_correlations"]), "relationships")
        t.ok(all(x["correlation"] <= -0.1 for x in pc["hedging_opportunities"]) and
             all(x["correlation"] >= 0.1 for x in pc["concentration_risks"]), "thresholds applied")

        # Nothing above wrote anything (defect 38).
        t.ok(dump(s) == before, "reports never mutate the database")

        # Bad input.
        t.raises(lambda: a.call("revenue-profitability", ["777x7x7"]), 1101,
                 "unknown channel: 1101", "777x7x7")
        t.raises(lambda: a.call("revenue-profitability", ["abc"]), -32602, "malformed scid: -32602")
        t.raises(lambda: a.call("revenue-dashboard", [0]), -32602, "window 0 refused", "window_days")
        t.raises(lambda: a.call("revenue-dashboard", [366]), -32602, "window 366 refused", "window_days")
        t.raises(lambda: a.call("revenue-dashboard", ["week"]), -32602, "non-numeric window refused")
        t.raises(lambda: a.call("revenue-report", ["nonsense"]), -32602, "unknown report type",
                 "nonsense")
        t.raises(lambda: a.call("revenue-report", ["peer"]), -32602, "peer report needs peer_id",
                 "peer_id")
        t.raises(lambda: a.call("revenue-report", ["peer", "02zz"]), -32602, "malformed peer id")
        t.raises(lambda: a.call("revenue-report", ["peer", UNKNOWN_PEER]), 1101,
                 "unknown peer: 1101 naming it", UNKNOWN_PEER)
        t.raises(lambda: a.call("revenue-report", ["summary", None, 0]), -32602,
                 "summary report window refused")
        t.raises(lambda: a.call("revenue-history", ["x"]), -32602, "history takes no parameters")
        t.raises(lambda: a.call("revenue-portfolio", ["lots"]), -32602, "non-numeric risk_aversion")
        t.ok(dump(s) == before, "errors wrote nothing either")
    finally:
        t.eq(s.stop(), 0, "clean shutdown", s.stderr_text()[-2000:])
        s.cleanup()


reports(t)
t.done()
