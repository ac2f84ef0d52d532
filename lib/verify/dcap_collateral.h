/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parsed form of DCAP collateral, shared by dcap_collateral.c (parsing, signatures,
 * windows) and dcap_tcb.c (TCB evaluation). Internal: nothing here is exported.
 */
#ifndef VT_VERIFY_DCAP_COLLATERAL_H
#define VT_VERIFY_DCAP_COLLATERAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "veritee/dcap.h"

/* Caps on untrusted collateral (real PCS answers are far below them). */
#define VT_DCAP_COLL_MAX_JSON     (4u * 1024u * 1024u)   /* the whole QuoteCollateralV3 JSON */
#define VT_DCAP_COLL_MAX_KEYS     32u                    /* top-level keys, known or not */
#define VT_DCAP_COLL_MAX_CHAIN    (32u * 1024u)          /* one PEM issuer chain */
#define VT_DCAP_COLL_MAX_CRL      (1024u * 1024u)        /* one CRL as DER */
#define VT_DCAP_COLL_MAX_BODY     (512u * 1024u)         /* tcb_info / qe_identity bytes */
#define VT_DCAP_COLL_MAX_LEVELS   128u                   /* tcbLevels of TCB info */
#define VT_DCAP_COLL_MAX_MODULES  16u                    /* tdxModuleIdentities */
#define VT_DCAP_COLL_MAX_ISV      64u                    /* tcbLevels of a module or QE identity */
#define VT_DCAP_COLL_MAX_ADV_EACH VT_DCAP_MAX_ADVISORIES /* advisoryIDs of one level */
#define VT_DCAP_COLL_ADV_LEN      24u                    /* incl. NUL, = vt_dcap_result */

/* An advisory ID range [first, first + n) in the collateral's advisory pool. */
struct vt_dcap_adv {
        uint32_t first, n;
};

/* A tcbLevels entry of TCB info (platform). */
struct vt_dcap_tcb_level {
        uint8_t sgx_svn[16];
        uint16_t pcesvn;
        uint8_t tdx_svn[16]; /* zero when absent (matches anything) */
        int64_t tcb_date;
        enum vt_tcb_status status;
        struct vt_dcap_adv adv;
};

/* A tcbLevels entry of a TDX module identity or of the QE identity. */
struct vt_dcap_isv_level {
        uint16_t isvsvn;
        int64_t tcb_date;
        enum vt_tcb_status status;
        struct vt_dcap_adv adv;
};

struct vt_dcap_tdx_module {
        char id[16]; /* "TDX_01" as written */
        uint8_t mrsigner[48];
        uint8_t attributes[8], attributes_mask[8];
        struct vt_dcap_isv_level *levels; /* sorted by isvsvn, descending */
        size_t n_levels;
};

/* tcbInfo version 3 (PCS API v4). */
struct vt_dcap_tcb_info {
        bool tdx; /* id "TDX"; else "SGX" */
        uint32_t version;
        int64_t issue_date, next_update;
        uint8_t fmspc[6], pce_id[2];
        uint32_t tcb_type, eval_number;
        bool has_tdx_module;
        struct vt_dcap_tdx_module tdx_module; /* levels unused */
        struct vt_dcap_tdx_module *modules;   /* tdxModuleIdentities */
        size_t n_modules;
        struct vt_dcap_tcb_level *levels; /* sorted descending by (sgx, pcesvn, tdx) */
        size_t n_levels;
};

enum vt_dcap_enclave_id {
        VT_DCAP_ID_QE = 1,
        VT_DCAP_ID_QVE,
        VT_DCAP_ID_TD_QE,
};

/* enclaveIdentity version 2. */
struct vt_dcap_qe_identity {
        enum vt_dcap_enclave_id id;
        uint32_t version;
        int64_t issue_date, next_update;
        uint32_t eval_number;
        uint8_t miscselect[4], miscselect_mask[4]; /* report byte order */
        uint8_t attributes[16], attributes_mask[16];
        uint8_t mrsigner[32];
        uint16_t isvprodid;
        struct vt_dcap_isv_level *levels; /* sorted by isvsvn, descending */
        size_t n_levels;
};

struct vt_dcap_collateral {
        /* the signed bodies, exactly as received, and their r||s signatures */
        char *tcb_info_raw, *qe_identity_raw;
        size_t tcb_info_len, qe_identity_len;
        uint8_t tcb_info_sig[64], qe_identity_sig[64];
        /* NULL in a bodies-only collateral (tests, fuzzing): such a one never verifies */
        STACK_OF(X509) * pck_crl_chain, *tcb_info_chain, *qe_identity_chain;
        X509_CRL *root_crl, *pck_crl;
        struct vt_dcap_tcb_info tcb;
        struct vt_dcap_qe_identity qe;
        char (*adv)[VT_DCAP_COLL_ADV_LEN];
        size_t n_adv, cap_adv;

        /* The time-independent checks (chains, CRL and body signatures) run once; their
         * outcome is kept here and the validity windows are checked on every call. */
        pthread_mutex_t lock;
        bool checked;
        int check_err;
        char check_msg[sizeof(((struct vt_diag *)0)->msg)];
        int64_t not_before, not_after; /* intersection of all windows (after the checks) */
};

/* vt_dcap_collateral_parse_bodies parses only a tcb_info and a qe_identity body (exact
 * bytes, no signatures, chains or CRLs) into a collateral that vt_dcap_tcb_evaluate can
 * use and vt_dcap_collateral_verify always rejects. For tests and fuzzing. */
int vt_dcap_collateral_parse_bodies(const char *tcb_info, size_t tcb_len, const char *qe_identity,
                                    size_t qe_len, struct vt_dcap_collateral **ret,
                                    struct vt_diag *d);

#endif
