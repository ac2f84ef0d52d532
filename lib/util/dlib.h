/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared libraries opened on first use. libxml2 (NVIDIA RIMs), libcurl (collateral fetches)
 * and libpq (the PostgreSQL store) are not linked into veriteed: each one, with the
 * libraries it pulls in (ICU and libstdc++; Kerberos, LDAP, SASL, SSH, nghttp2 ...), costs
 * resident pages in every process that maps it, also when it is never called. Their users
 * call them through pointers that vt_dlib_load fills once, the first time one is needed
 * (a RIM to check, a fetch, a PostgreSQL store to open); a call through a pointer costs what
 * a call through the PLT does.
 */
#ifndef VT_UTIL_DLIB_H
#define VT_UTIL_DLIB_H

#include <pthread.h>
#include <stddef.h>

#include "veritee/veritee.h"

struct vt_dlsym {
        const char *name;
        void **ptr;
};

/* A library opened on first use. soname comes from the build (the SONAME of the library the
 * code was compiled against, so that the headers and the library agree); init, if set, runs
 * once after every symbol was found (e.g. curl_global_init). */
struct vt_dlib {
        const char *soname;
        const struct vt_dlsym *syms;
        size_t n_syms;
        void (*init)(void);
        pthread_mutex_t lock;
        int state; /* 0: not tried; 1: loaded; < 0: the VT_E_* of the failed attempt */
        void *so;
        unsigned holds; /* vt_dlib_hold's users */
        char why[192];
};

/* VT_DLSYM_DECL(f) declares the pointer sym_f with f's type; VT_DLSYM(f) is its row in the
 * table given to VT_DLIB. */
/* clang-format off */
#define VT_DLSYM_DECL(f) static __typeof__(&(f)) sym_##f
#define VT_DLSYM(f)      {#f, (void **)&sym_##f}
#define VT_DLIB(so, table, init_fn)                                                                \
        {.soname = (so), .syms = (table), .n_syms = sizeof(table) / sizeof((table)[0]),           \
         .init = (init_fn), .lock = PTHREAD_MUTEX_INITIALIZER}
/* clang-format on */

/* vt_dlib_load opens l->soname and resolves every symbol of its table, once: later calls
 * return the first result at the cost of one atomic load. 0 when the pointers can be used;
 * VT_E_UNSUPPORTED (the library or one of its symbols is missing, the reason in d) when not,
 * again on every call. Thread-safe. The library stays loaded until the process exits. */
int vt_dlib_load(struct vt_dlib *l, struct vt_diag *d);

/* vt_dlib_hold is vt_dlib_load for a library needed only for a while (libyaml, while a
 * configuration is read): each hold that returned 0 is paired with one vt_dlib_release,
 * and the last release closes the library, so that its pages are not kept; its pointers
 * are then not to be used until the next hold. A failed hold is tried again by the next.
 * Thread-safe; a library is either held or loaded, never both. */
int vt_dlib_hold(struct vt_dlib *l, struct vt_diag *d);
void vt_dlib_release(struct vt_dlib *l);

#endif
