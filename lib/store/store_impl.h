/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store interface a back end implements (internal to lib/store). A back end's own
 * state starts with a struct vt_store, whose ops point to its table; store.c checks the
 * arguments common to every back end and calls through the table. The operations are
 * those of store.h, with the same contracts.
 */
#ifndef VT_STORE_STORE_IMPL_H
#define VT_STORE_STORE_IMPL_H

#include "store/store.h"

struct vt_store {
        const struct vt_store_ops *ops;
};

struct vt_store_ops {
        const char *name; /* "sqlite", ... */
        int (*open)(const char *path, struct vt_store **ret, struct vt_diag *d);
        void (*close)(struct vt_store *s);
        int (*schema_version)(struct vt_store *s, int *ret, struct vt_diag *d);
        int (*ping)(struct vt_store *s, struct vt_diag *d);
        int (*session_open)(struct vt_store *s, const struct vt_session *sess, int64_t now,
                            size_t max_open, size_t max_open_per_client, struct vt_diag *d);
        int (*session_get)(struct vt_store *s, const char *id, int64_t now, struct vt_session *ret,
                           struct vt_diag *d);
        int (*session_claim)(struct vt_store *s, const char *id, const char *nonce, int64_t now,
                             struct vt_diag *d);
        int (*session_attest)(struct vt_store *s, const char *id, const char *nonce, int64_t now,
                              const char *claims_json, int64_t expires, struct vt_diag *d);
        int (*session_set_state)(struct vt_store *s, const char *id, enum vt_session_state st,
                                 struct vt_diag *d);
        int (*session_set_claims)(struct vt_store *s, const char *id, const char *claims_json,
                                  struct vt_diag *d);
        int (*session_set_attested)(struct vt_store *s, const char *id, const char *claims_json,
                                    int64_t expires, struct vt_diag *d);
        int (*session_get_claims)(struct vt_store *s, const char *id, int64_t now, char **ret,
                                  struct vt_diag *d);
        int (*session_count_live)(struct vt_store *s, int64_t now, size_t *ret, struct vt_diag *d);
        int (*sweep)(struct vt_store *s, int64_t now, size_t *ret_n, struct vt_diag *d);
        int (*resource_put)(struct vt_store *s, const char *path, const char *kek_id,
                            const uint8_t *wdek, size_t wdek_len, const uint8_t *ct, size_t ct_len,
                            size_t plain_len, int64_t now, struct vt_diag *d);
        int (*resource_put_policy)(struct vt_store *s, const char *path, const char *kek_id,
                                   const uint8_t *wdek, size_t wdek_len, const uint8_t *ct,
                                   size_t ct_len, size_t plain_len, const char *policy, int64_t now,
                                   struct vt_diag *d);
        int (*resource_put_batch)(struct vt_store *s, const char *kek_id,
                                  const struct vt_resource_item *items, size_t n, int64_t now,
                                  size_t *ret_bad, struct vt_diag *d);
        /* may be NULL: the back end has no cache of its own to size */
        int (*set_cache)(struct vt_store *s, size_t kib, struct vt_diag *d);
        int (*resource_get)(struct vt_store *s, const char *path, char kek_id[32], uint8_t **wdek,
                            size_t *wdek_len, uint8_t **ct, size_t *ct_len, struct vt_diag *d);
        int (*release_get)(struct vt_store *s, const char *path, char kek_id[32], uint8_t **wdek,
                           size_t *wdek_len, uint8_t **ct, size_t *ct_len, char **ret_policy,
                           struct vt_diag *d);
        int (*resource_delete)(struct vt_store *s, const char *path, struct vt_diag *d);
        int (*resource_list)(struct vt_store *s, const char *repo_or_null, const char *after,
                             size_t limit, int (*cb)(const struct vt_resource_meta *m, void *ud),
                             void *ud, struct vt_diag *d);
        int (*resource_rewrap_all)(struct vt_store *s, const char *new_kek_id,
                                   int (*rewrap)(const char *path, const char *kek_id,
                                                 const uint8_t *wdek, size_t len, uint8_t **ret_new,
                                                 size_t *ret_new_len, void *ud),
                                   void *ud, size_t *ret_count, struct vt_diag *d);
        int (*kek_current)(struct vt_store *s, char ret_id[32], int64_t *ret_generation,
                           struct vt_diag *d);
        int (*kek_adopt)(struct vt_store *s, const char *kek_id, char ret_id[32],
                         struct vt_diag *d);
        int (*kek_count)(struct vt_store *s, const char *kek_id, size_t *ret, struct vt_diag *d);
        int (*policy_set)(struct vt_store *s, const char *path, const char *json, int64_t now,
                          struct vt_diag *d);
        int (*policy_get)(struct vt_store *s, const char *path, char **ret_json, struct vt_diag *d);
        int (*refval_add)(struct vt_store *s, const char *id, const char *tee, const char *json,
                          int64_t now, struct vt_diag *d);
        int (*refval_delete)(struct vt_store *s, const char *id, struct vt_diag *d);
        int (*refval_list)(struct vt_store *s, const char *tee_or_null,
                           int (*cb)(const char *id, const char *tee, const char *json, void *ud),
                           void *ud, struct vt_diag *d);
        int (*refval_generation)(struct vt_store *s, int64_t *ret, struct vt_diag *d);
        int (*ledger_append)(struct vt_store *s, uint64_t expect_size,
                             const struct vt_ledger_row *rows, size_t n,
                             const struct vt_ledger_hash *nodes, size_t m,
                             const struct vt_ledger_sth *sth, bool sync, struct vt_diag *d);
        /* NULL: every commit of ledger_append is durable (sync is not needed) */
        int (*ledger_sync)(struct vt_store *s, struct vt_diag *d);
        int (*ledger_size)(struct vt_store *s, uint64_t *ret, struct vt_diag *d);
        int (*ledger_node)(struct vt_store *s, unsigned level, uint64_t index,
                           uint8_t ret[static 32], struct vt_diag *d);
        int (*ledger_entries)(struct vt_store *s, uint64_t start, uint64_t end,
                              int (*cb)(const struct vt_ledger_row *row, void *ud), void *ud,
                              struct vt_diag *d);
        int (*ledger_sth_put)(struct vt_store *s, uint64_t size, int64_t time, const char *sth,
                              struct vt_diag *d);
        int (*ledger_sth_latest)(struct vt_store *s, uint64_t *ret_size, char **ret_sth,
                                 struct vt_diag *d);
        int (*ledger_sths)(struct vt_store *s, uint64_t from_size, size_t max,
                           int (*cb)(uint64_t size, int64_t time, const char *sth, void *ud),
                           void *ud, struct vt_diag *d);
};

#endif
