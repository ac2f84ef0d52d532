/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Modular inversion for odd moduli of up to 384 bits, for ECDSA verification
 * (crypto/ecfixed.c: w = s^-1 modulo the P-384 order). OpenSSL's BN_mod_inverse takes about
 * 21 microseconds for it, a fifth of a verification with crypto/ecfixed.h's tables;
 * Bernstein and Yang's divsteps ("Fast constant-time gcd computation and modular
 * inversion", 2019), batched 62 at a time on 64-bit limbs, about 2.
 *
 * Variable time: for public values only (signatures, digests, keys), never for a secret.
 * Without a 128-bit integer type the function answers VT_E_UNSUPPORTED and the caller uses
 * BN_mod_inverse.
 */
#ifndef VT_CRYPTO_MODINV_H
#define VT_CRYPTO_MODINV_H

#include <stdint.h>

#define VT_MODINV_BYTES 48

/* vt_modinv384 writes a^-1 mod n into out (all three big-endian, 48 bytes) and returns 0;
 * or VT_E_INVAL, out untouched, when n is even, a is 0, a is not below n, or a and n have
 * a common factor (no inverse); or VT_E_UNSUPPORTED without 128-bit integers. out may
 * alias a or n. Thread-safe. */
int vt_modinv384(uint8_t out[VT_MODINV_BYTES], const uint8_t a[VT_MODINV_BYTES],
                 const uint8_t n[VT_MODINV_BYTES]);

#endif
