/* SPDX-License-Identifier: Apache-2.0 */
/* The size of OpenSSL's secure heap (CRYPTO_secure_malloc_init), where private keys live. */
#ifndef VT_CRYPTO_SECHEAP_H
#define VT_CRYPTO_SECHEAP_H

#include <stddef.h>

/* The smallest block of the secure heap (CRYPTO_secure_malloc_init's minsize). */
#define VT_SECURE_HEAP_MINSIZE 16

/* vt_secure_heap_bytes returns the size to give CRYPTO_secure_malloc_init (a power of 2)
 * for a process of at most threads threads that use OpenSSL. Once the secure heap is
 * initialised OpenSSL takes more from it than the private keys: every thread that draws
 * random bytes keeps its own DRBG states there (public and private: 512 bytes) until it
 * exits, and a private-key operation its temporaries (the ECDSA nonce) while it runs. A
 * heap too small for them makes RAND_bytes and EVP_DigestSign fail ("malloc failure")
 * under load, so it is sized for every thread at once: 1 KiB each, plus 16 KiB for the
 * keys. Thread-safe. */
size_t vt_secure_heap_bytes(unsigned long threads);

#endif
