/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure Confidential Ledger / CCF write receipts (internal). A receipt proves that a
 * transaction is in the Merkle tree whose root a CCF node signed; the node's certificate
 * is endorsed by the service identity, which the caller trusts out of band.
 */
#ifndef VT_LEDGER_CCF_H
#define VT_LEDGER_CCF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "veritee/veritee.h"

/* Caps on untrusted receipt input. */
#define VT_CCF_RECEIPT_MAX_BYTES   (1024u * 1024u)
#define VT_CCF_PROOF_MAX           64
#define VT_CCF_ENDORSEMENTS_MAX    16
#define VT_CCF_COMMIT_EVIDENCE_MAX 256

/* What a verified receipt says. */
struct vt_ccf_receipt_info {
        /* "view.seqno", or "" when the receipt names none. Taken from commitEvidence
         * (covered by the signature) when there is one, else from the unsigned wrapper's
         * transactionId; transaction_id_signed says which. */
        char transaction_id[48];
        bool transaction_id_signed;
        uint8_t root[32];           /* the Merkle root the node signed */
        uint8_t node_id[32];        /* SHA-256 of the node certificate's SPKI DER */
        uint8_t claims_digest[32];  /* zero when the application set no claims (or for
                                     * a signature-transaction receipt) */
        bool signature_transaction; /* a receipt for a signature transaction (`leaf`) */
        size_t n_endorsements;      /* serviceEndorsements walked */
};

/*
 * vt_ccf_receipt_verify checks a CCF receipt (receipt_json, len bytes of JSON) against
 * the trusted service certificate (service_cert_pem, pem_len bytes of PEM holding
 * exactly one certificate). Accepted shapes: the Azure Confidential Ledger form
 * (camelCase: cert, leafComponents{claimsDigest, commitEvidence, writeSetDigest},
 * nodeId, proof, signature, serviceEndorsements), bare or wrapped in
 * {state, transactionId, receipt, applicationClaims}; the native CCF form (snake_case:
 * leaf_components, node_id, service_endorsements); and receipts for signature
 * transactions (`leaf` and an empty proof instead of the leaf components).
 *
 * The checks: leaf = SHA-256(writeSetDigest || SHA-256(commitEvidence) || claimsDigest);
 * the proof folded into the root; SHA-256(SPKI of cert) = nodeId; the ECDSA signature
 * (P-256 or P-384) over the root taken as a SHA-256 prehash; the chain node cert <-
 * serviceEndorsements[0] <- ... <- service certificate (signatures only: CCF's
 * certificates are short-lived and receipts outlive them, so validity periods are not
 * checked). applicationClaims are not checked against claimsDigest: the digest is
 * returned in ret_info for a caller that holds the claims.
 *
 * Returns 0 when every check passes and fills *ret_info (if not NULL); otherwise a
 * negative VT_E_* (FORMAT, LIMIT, BINDING for nodeId, SIGNATURE, CHAIN, UNSUPPORTED
 * for a key type, NOMEM) with the failed check named in d. Borrows every argument;
 * thread-safe (no shared state).
 */
int vt_ccf_receipt_verify(const uint8_t *receipt_json, size_t len, const char *service_cert_pem,
                          size_t pem_len, struct vt_ccf_receipt_info *ret_info, struct vt_diag *d);

#endif
