/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AR4SI trustworthiness vectors (draft-ietf-rats-ar4si): the appraisal of verified evidence,
 * one claim per aspect of the attester. A value's tier is its range: 0 no claim, 2-31
 * affirming, 32-95 warning, 96-127 contraindicated (negative: the verifier failed).
 */
#ifndef VERITEE_AR4SI_H
#define VERITEE_AR4SI_H

#ifdef __cplusplus
extern "C" {
#endif

/* The codes veritee gives, with the AR4SI meaning they have in each claim. */
enum {
        VT_AR4SI_NO_CLAIM = 0,
        /* affirming: trustworthy instance, genuine hardware, approved configuration or
         * run-time, encrypted memory (runtime-opaque) */
        VT_AR4SI_AFFIRMING = 2,
        /* warning: hardware with a TCB below the minimum (or collateral out of date) */
        VT_AR4SI_WARNING = 32,
        /* warning (executables): the run-time is not recognised, no reference names it */
        VT_AR4SI_UNRECOGNIZED_RUNTIME = 33,
        /* warning (configuration): nothing says whether the configuration is acceptable */
        VT_AR4SI_UNSUPPORTABLE_CONFIG = 36,
        /* contraindicated: a check against the reference values failed, a TCB is revoked */
        VT_AR4SI_CONTRAINDICATED = 96,
        /* contraindicated (hardware): no hardware vouches for the evidence */
        VT_AR4SI_UNRECOGNIZED_HARDWARE = 97,
};

/* The lowest value of each tier. */
#define VT_AR4SI_MIN_AFFIRMING       2
#define VT_AR4SI_MIN_WARNING         32
#define VT_AR4SI_MIN_CONTRAINDICATED 96

/* An AR4SI trustworthiness vector. */
struct vt_ar4si {
        int instance_identity, configuration, executables, file_system, hardware, runtime_opaque,
                storage_opaque, sourced_data;
};

/* The tiers, from best to worst (EAR's status is the worst tier of the vector). */
enum vt_ar4si_tier {
        VT_AR4SI_TIER_NONE = 0,
        VT_AR4SI_TIER_AFFIRMING,
        VT_AR4SI_TIER_WARNING,
        VT_AR4SI_TIER_CONTRAINDICATED,
};

/* vt_ar4si_tier_of returns the worst tier of the vector's claims (all zero: NONE; a
 * negative value, a verifier failure, counts as contraindicated). Thread-safe. */
static inline enum vt_ar4si_tier vt_ar4si_tier_of(const struct vt_ar4si *tv)
{
        const int v[] = {tv->instance_identity, tv->configuration, tv->executables,
                         tv->file_system,       tv->hardware,      tv->runtime_opaque,
                         tv->storage_opaque,    tv->sourced_data};
        enum vt_ar4si_tier s = VT_AR4SI_TIER_NONE;
        for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                enum vt_ar4si_tier c = v[i] >= VT_AR4SI_MIN_CONTRAINDICATED || v[i] < 0
                                               ? VT_AR4SI_TIER_CONTRAINDICATED
                                       : v[i] >= VT_AR4SI_MIN_WARNING   ? VT_AR4SI_TIER_WARNING
                                       : v[i] >= VT_AR4SI_MIN_AFFIRMING ? VT_AR4SI_TIER_AFFIRMING
                                                                        : VT_AR4SI_TIER_NONE;
                if (c > s)
                        s = c;
        }
        return s;
}

/* vt_ar4si_tier_name: "affirming", "warning", "contraindicated" or "none". */
static inline const char *vt_ar4si_tier_name(enum vt_ar4si_tier t)
{
        return t == VT_AR4SI_TIER_AFFIRMING         ? "affirming"
               : t == VT_AR4SI_TIER_WARNING         ? "warning"
               : t == VT_AR4SI_TIER_CONTRAINDICATED ? "contraindicated"
                                                    : "none";
}

#ifdef __cplusplus
}
#endif

#endif
