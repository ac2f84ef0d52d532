/* SPDX-License-Identifier: Apache-2.0 */
#include "crypto/secheap.h"

#include <stdint.h>

#define PER_THREAD_BYTES 1024u         /* two DRBG states (2 x 256) + one operation's temporaries */
#define KEYS_BYTES       (16u * 1024u) /* the signing keys and what loading them takes */
#define MIN_BYTES        (32u * 1024u)
#define MAX_BYTES        ((size_t)1 << 30)

size_t vt_secure_heap_bytes(unsigned long threads)
{
        size_t want = KEYS_BYTES, n = MIN_BYTES;
        if (threads > (MAX_BYTES - KEYS_BYTES) / PER_THREAD_BYTES)
                return MAX_BYTES;
        want += (size_t)threads * PER_THREAD_BYTES;
        while (n < want)
                n <<= 1;
        return n;
}
