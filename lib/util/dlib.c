/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "util/dlib.h"

#include <dlfcn.h>
#include <stdio.h>

int vt_dlib_load(struct vt_dlib *l, struct vt_diag *d)
{
        int s = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
        if (s == 0) {
                pthread_mutex_lock(&l->lock);
                s = l->state;
                if (s == 0) {
                        /* RTLD_LOCAL: its symbols stay out of the global scope, where they
                         * could bind the references of another library loaded later */
                        void *so = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
                        const char *err = so ? NULL : dlerror();
                        s = 1;
                        if (!so) {
                                snprintf(l->why, sizeof(l->why), "%s could not be loaded: %s",
                                         l->soname, err ? err : "unknown reason");
                                s = VT_E_UNSUPPORTED;
                        }
                        for (size_t i = 0; s == 1 && i < l->n_syms; i++)
                                if (!(*l->syms[i].ptr = dlsym(so, l->syms[i].name))) {
                                        snprintf(l->why, sizeof(l->why), "%s has no %s", l->soname,
                                                 l->syms[i].name);
                                        s = VT_E_UNSUPPORTED;
                                }
                        if (s == 1 && l->init)
                                l->init();
                        /* a failed library is kept open: dlclose would not unmap one that
                         * another part already loaded, and the pointers are never used */
                        __atomic_store_n(&l->state, s, __ATOMIC_RELEASE);
                }
                pthread_mutex_unlock(&l->lock);
        }
        if (s < 0)
                return vt_diag_set(d, s, "%s", l->why);
        return 0;
}
