/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Token signatures with OpenSSL's secure heap initialised as veriteed initialises it
 * (src/veriteed/main.c, lock_key_memory: vt_secure_heap_bytes of its threads): 64 threads
 * that all hold their DRBG states at once, as 64 connection threads do, each draws random
 * bytes (a token's jti) and signs a token, twice, and every signature succeeds and
 * verifies. A heap of the former fixed 32 KiB ran out here ("malloc failure" from the
 * DRBG, 500 "cannot sign the attestation token" under load). And when the heap is
 * exhausted after all, the signature's reason names OpenSSL's error and the heap's use.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "crypto/secheap.h"
#include "token/jwt.h"
#include "util/hex.h"
#include "veritee/veritee.h"

#define THREADS 64
#define NOW     ((int64_t)1800000000)

static struct {
        char dir[64];
        struct vt_signer *signer;
        json_t *jwks;
        pthread_barrier_t all_hold; /* every thread has its DRBGs and has signed once */
} S;

struct job {
        int failed;      /* signatures that failed */
        char why[512];   /* the first one's reason */
        char *tokens[2]; /* before and after every thread holds its DRBGs */
        bool wait;       /* meet the others at the barrier between the two */
        bool no_rand;    /* sign only (a fixed jti) */
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st, (void)flag, (void)f;
        return remove(p);
}

/* what an attestation does in its connection thread: a random jti, then the signature */
static void sign_one(struct job *j, int i)
{
        uint8_t id[16];
        char jti[33];
        struct vt_diag d = {0};
        if (j->no_rand) {
                memset(id, 0x5a, sizeof(id));
        } else if (RAND_bytes(id, sizeof(id)) != 1) {
                if (!j->failed++)
                        snprintf(j->why, sizeof(j->why), "RAND_bytes failed");
                ERR_clear_error();
                return;
        }
        vt_hex_encode(id, sizeof(id), jti);
        json_t *claims = json_pack("{s:s, s:s, s:I}", "sub", "guest", "jti", jti, "exp",
                                   (json_int_t)(NOW + 300));
        if (!claims || vt_jwt_sign_d(S.signer, claims, &j->tokens[i], &d) < 0) {
                if (!j->failed++)
                        snprintf(j->why, sizeof(j->why), "%s", d.msg[0] ? d.msg : "no reason");
        }
        json_decref(claims);
}

static void *worker(void *arg)
{
        struct job *j = arg;
        sign_one(j, 0);
        if (j->wait)
                (void)pthread_barrier_wait(&S.all_hold);
        sign_one(j, 1);
        return NULL;
}

static int setup(void **state)
{
        (void)state;
        char p[128];
        struct vt_diag d = {0};
        /* before any key is loaded, as veriteed does: a server of THREADS connection
         * threads and its own main thread */
        if (CRYPTO_secure_malloc_init(vt_secure_heap_bytes(THREADS + 1), VT_SECURE_HEAP_MINSIZE) ==
            0)
                return -1;
        snprintf(S.dir, sizeof(S.dir), "/tmp/vt-jwt-secheap-XXXXXX");
        if (!mkdtemp(S.dir))
                return -1;
        snprintf(p, sizeof(p), "%s/token.pem", S.dir);
        if (vt_signer_load_or_create(p, &S.signer, &d) < 0)
                return -1;
        vt_signer_free(S.signer); /* loaded again from its file, as at start-up */
        if (vt_signer_load_or_create(p, &S.signer, &d) < 0)
                return -1;
        json_t *keys = json_array();
        json_array_append_new(keys, vt_signer_jwk(S.signer));
        S.jwks = json_pack("{s:o}", "keys", keys);
        return S.jwks ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        vt_signer_free(S.signer);
        json_decref(S.jwks);
        return nftw(S.dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_secheap_64_threads_sign(void **state)
{
        (void)state;
        static struct job jobs[THREADS];
        pthread_t t[THREADS];
        /* the private key is on the secure heap, as in veriteed */
        assert_true(CRYPTO_secure_malloc_initialized());
        assert_true(CRYPTO_secure_used() > 0);
        assert_int_equal(pthread_barrier_init(&S.all_hold, NULL, THREADS), 0);
        for (int i = 0; i < THREADS; i++) {
                memset(&jobs[i], 0, sizeof(jobs[i]));
                jobs[i].wait = true;
                assert_int_equal(pthread_create(&t[i], NULL, worker, &jobs[i]), 0);
        }
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(pthread_join(t[i], NULL), 0);
        pthread_barrier_destroy(&S.all_hold);
        int failed = 0;
        const char *why = NULL;
        for (int i = 0; i < THREADS; i++) {
                failed += jobs[i].failed;
                if (jobs[i].failed && !why)
                        why = jobs[i].why;
        }
        if (failed)
                fail_msg("%d of %d signatures failed with %d threads at once: %s", failed,
                         2 * THREADS, THREADS, why);
        for (int i = 0; i < THREADS; i++)
                for (int k = 0; k < 2; k++) {
                        struct vt_diag d = {0};
                        json_t *claims = NULL;
                        if (vt_jwt_verify(jobs[i].tokens[k], S.jwks, NOW, &claims, &d) != 0)
                                fail_msg("thread %d token %d does not verify: %s", i, k, d.msg);
                        json_decref(claims);
                        free(jobs[i].tokens[k]);
                }
        print_message("%d threads, %d tokens, heap of %zu bytes, %zu in use after\n", THREADS,
                      2 * THREADS, vt_secure_heap_bytes(THREADS + 1), CRYPTO_secure_used());
}

/* an exhausted heap: the signature fails, and its reason says why */
static void test_secheap_exhausted_reason(void **state)
{
        (void)state;
        size_t n = vt_secure_heap_bytes(THREADS + 1) / VT_SECURE_HEAP_MINSIZE, used = 0;
        void **blocks = calloc(n, sizeof(*blocks));
        assert_non_null(blocks);
        while (used < n && (blocks[used] = OPENSSL_secure_malloc(VT_SECURE_HEAP_MINSIZE)))
                used++;
        ERR_clear_error();
        assert_true(used < n); /* the heap ran out (its bookkeeping takes some) */
        struct job j = {.no_rand = true};
        pthread_t t; /* a new thread: it needs DRBG states from the heap */
        assert_int_equal(pthread_create(&t, NULL, worker, &j), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        for (size_t i = 0; i < used; i++)
                OPENSSL_secure_free(blocks[i]);
        free(blocks);
        free(j.tokens[0]);
        free(j.tokens[1]);
        assert_int_equal(j.failed, 2);
        if (!strstr(j.why, "malloc failure") || !strstr(j.why, "secure heap:"))
                fail_msg("the reason names neither OpenSSL's error nor the heap: %s", j.why);
        print_message("reason: %s\n", j.why);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_secheap_64_threads_sign),
                cmocka_unit_test(test_secheap_exhausted_reason),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
