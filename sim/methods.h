/* Shared pieces of the fake lightningd's built-in methods, which live in
 * one file per area: methods_channels.c (getinfo, listpeerchannels,
 * listpeers, setchannel), methods.c (plugins, help, config, messages),
 * methods_gossip.c (listchannels, listnodes), methods_chain.c (feerates,
 * listfunds, fundchannel, close, connect, listclosedchannels),
 * methods_invoice.c (invoice, getroute), methods_pay.c (sendpay,
 * waitsendpay, listsendpays, listforwards, wait), methods_datastore.c (datastore, listdatastore,
 * deldatastore, datastoreusage) and the dev-sim-* methods. Each answers
 * with the shapes of Core Lightning's v26 schemas and its error codes. */
#ifndef HIVE_SIM_METHODS_H
#define HIVE_SIM_METHODS_H
#include "sim/lightningd.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net;
struct net_node;
struct payments;

/* Core Lightning's error codes the methods use (common/jsonrpc_errors.h
 * of lightningd; not ours, so not in common/errcode.h). */
enum cln_errcode {
	CLN_PAY_IN_PROGRESS = 200,
	CLN_PAY_RHASH_ALREADY_USED = 201,
	CLN_PAY_DESTINATION_PERM_FAIL = 203,
	CLN_PAY_TRY_OTHER_ROUTE = 204,
	CLN_PAY_ROUTE_NOT_FOUND = 205,
	CLN_PAY_NO_SUCH_PAYMENT = 208,
	CLN_FUND_CANNOT_AFFORD = 301,
	CLN_FUND_OUTPUT_IS_DUST = 302,
	CLN_FUNDING_PEER_NOT_CONNECTED = 305,
	CLN_FUNDING_UNKNOWN_PEER = 306,
	CLN_CONNECT_ALL_ADDRESSES_FAILED = 401,
	CLN_INVOICE_LABEL_ALREADY_EXISTS = 900,
	CLN_INVOICE_PREIMAGE_ALREADY_EXISTS = 901,
	CLN_DATASTORE_DEL_DOES_NOT_EXIST = 1200,
	CLN_DATASTORE_DEL_WRONG_GENERATION = 1201,
	CLN_DATASTORE_UPDATE_ALREADY_EXISTS = 1202,
	CLN_DATASTORE_UPDATE_DOES_NOT_EXIST = 1203,
	CLN_DATASTORE_UPDATE_WRONG_GENERATION = 1204,
	CLN_DATASTORE_UPDATE_HAS_CHILDREN = 1205,
	CLN_DATASTORE_UPDATE_NO_CHILDREN = 1206,
};

/* A parameter given by position or by name; NULL when absent or null. */
const json_t *meth_param(const json_t *params, size_t pos, const char *name);
const char *meth_param_str(const json_t *params, size_t pos, const char *name);
/* Reject unknown named parameters (and too many positional ones), as
 * lightningd does: fails @req and returns false. */
bool meth_check_names(struct lnd_req *req, const json_t *params,
		      const char *const *names);
struct net_node *meth_self(struct lnd_req *req);
struct net *meth_net(struct lnd_req *req);

/* Typed parameters. Each returns false after failing @req (missing
 * required or ill-typed); *present tells whether it was given. */
bool meth_u64(struct lnd_req *req, const json_t *params, size_t pos,
	      const char *name, bool required, uint64_t *out, bool *present);
/* An amount: integer msat or "<n>msat" / "<n>sat" / "<n>btc". */
bool meth_msat(struct lnd_req *req, const json_t *params, size_t pos,
	       const char *name, bool required, uint64_t *out, bool *present);
bool meth_pubkey(struct lnd_req *req, const json_t *params, size_t pos,
		 const char *name, bool required, const char **out);
bool meth_scid(struct lnd_req *req, const json_t *params, size_t pos,
	       const char *name, bool required, const char **out);
bool meth_hash(struct lnd_req *req, const json_t *params, size_t pos,
	       const char *name, bool required, uint8_t out[32], bool *present);
/* "created" / "updated" pagination: index (NULL if absent), start,
 * limit (UINT64_MAX if absent), with lightningd's rules. */
bool meth_pagination(struct lnd_req *req, const json_t *params,
		     size_t pos_index, const char **index, uint64_t *start,
		     uint64_t *limit);

/* Result filters (lnd_req_filter), so a method builds only what the
 * filter keeps. Whether filter @f (NULL: none) keeps member @key of the
 * object it applies to. */
bool meth_wants(const json_t *f, const char *key);
/* The filter of member @key: of the object itself, or (@array) of each
 * element of the array; NULL when @f does not filter inside it. */
const json_t *meth_filter_sub(const json_t *f, const char *key, bool array);

/* Parse an amount value (see meth_msat). */
bool meth_amount_value(const json_t *v, uint64_t *msat);

/* The payment engine the simulation lends the node (getroute, sendpay),
 * or NULL when it runs without one. */
struct payments *meth_payments(struct lnd_req *req);
/* The most hops a route may have (getroute's maxhops, sendpay's route),
 * as in lightningd. */
#define MAX_ROUTE_HOPS 20

extern const struct lnd_method meth_channels[];
extern const size_t meth_channels_n;
extern const struct lnd_method meth_core[];
extern const size_t meth_core_n;
extern const struct lnd_method meth_gossip[];
extern const size_t meth_gossip_n;
extern const struct lnd_method meth_chain[];
extern const size_t meth_chain_n;
extern const struct lnd_method meth_invoice[];
extern const size_t meth_invoice_n;
extern const struct lnd_method meth_pay[];
extern const size_t meth_pay_n;
extern const struct lnd_method meth_datastore[];
extern const size_t meth_datastore_n;

#endif
