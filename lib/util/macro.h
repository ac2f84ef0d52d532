/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers shared by all of lib/: cleanup attributes and small macros. */
#ifndef VT_UTIL_MACRO_H
#define VT_UTIL_MACRO_H

#include <stdlib.h>
#include <string.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_     __attribute__((unused))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* TAKE_PTR hands ownership of p to the caller and leaves NULL behind. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp_ = (p);                                                          \
                (p) = NULL;                                                                        \
                _tp_;                                                                              \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) defines funcp(type *p) calling func(*p) when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
        static inline void func##p(type *p)                                                        \
        {                                                                                          \
                if (*p)                                                                            \
                        func(*p);                                                                  \
        }

#endif
