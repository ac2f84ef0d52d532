/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "util/dlib.h"

#include <dlfcn.h>
#include <stdio.h>

/* Opens l->soname and resolves its table, l->lock held: 1, or the VT_E_* with l->why. */
static int open_locked(struct vt_dlib *l)
{
        /* RTLD_LOCAL: its symbols stay out of the global scope, where they could bind the
         * references of another library loaded later */
        void *so = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
        if (!so) {
                const char *err = dlerror();
                snprintf(l->why, sizeof(l->why), "%s could not be loaded: %s", l->soname,
                         err ? err : "unknown reason");
                return VT_E_UNSUPPORTED;
        }
        for (size_t i = 0; i < l->n_syms; i++)
                if (!(*l->syms[i].ptr = dlsym(so, l->syms[i].name))) {
                        snprintf(l->why, sizeof(l->why), "%s has no %s", l->soname,
                                 l->syms[i].name);
                        for (size_t k = 0; k < l->n_syms; k++)
                                *l->syms[k].ptr = NULL;
                        dlclose(so);
                        return VT_E_UNSUPPORTED;
                }
        l->so = so;
        if (l->init)
                l->init();
        return 1;
}

int vt_dlib_load(struct vt_dlib *l, struct vt_diag *d)
{
        int s = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
        if (s == 0) {
                pthread_mutex_lock(&l->lock);
                s = l->state;
                if (s == 0) {
                        s = open_locked(l);
                        __atomic_store_n(&l->state, s, __ATOMIC_RELEASE);
                }
                pthread_mutex_unlock(&l->lock);
        }
        if (s < 0)
                return vt_diag_set(d, s, "%s", l->why);
        return 0;
}

int vt_dlib_hold(struct vt_dlib *l, struct vt_diag *d)
{
        pthread_mutex_lock(&l->lock);
        int s = l->holds ? 1 : open_locked(l);
        if (s == 1)
                l->holds++;
        pthread_mutex_unlock(&l->lock);
        if (s < 0)
                return vt_diag_set(d, s, "%s", l->why);
        return 0;
}

void vt_dlib_release(struct vt_dlib *l)
{
        pthread_mutex_lock(&l->lock);
        if (l->holds && --l->holds == 0) {
                for (size_t i = 0; i < l->n_syms; i++)
                        *l->syms[i].ptr = NULL;
                dlclose(l->so);
                l->so = NULL;
        }
        pthread_mutex_unlock(&l->lock);
}
