/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A plain directory that behaves like the kernel's configfs-tsm report directory
 * (Documentation/ABI/testing/configfs-tsm-report), answered by a thread:
 *   - a new entry (mkdir) gets provider, generation (written last, so that its presence
 *     means "ready"), inblob, outblob, auxblob, privlevel and privlevel_floor;
 *   - every inblob write (seen with inotify, IN_CLOSE_WRITE) bumps generation, after
 *     outblob and auxblob hold the answer: SNP: a simulator report (vt_sim_report) with
 *     the written bytes as REPORT_DATA and the GHCB certificate table (VCEK, ASK, ARK)
 *     in auxblob; TDX: a DCAP quote template with the written bytes as REPORT_DATA.
 * Unlike configfs the answer is asynchronous and rmdir needs the files gone first; the
 * provider handles both.
 */
#ifndef VT_TEST_FAKE_TSM_H
#define VT_TEST_FAKE_TSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fake_tsm;

enum fake_tsm_kind {
        FAKE_TSM_SNP, /* provider "sev_guest" */
        FAKE_TSM_TDX, /* provider "tdx_guest" */
};

/* fake_tsm_start creates root (mode 0700; it must not exist) and answers it from a
 * thread. SNP needs sim_dir (a simulator); TDX needs tdx_quote (a v4 TDX quote file
 * whose REPORT_DATA is replaced). Returns 0 or a negative errno. */
int fake_tsm_start(const char *root, enum fake_tsm_kind kind, const char *sim_dir,
                   const char *tdx_quote, struct fake_tsm **ret);

/* fake_tsm_race: the next n answers bump generation by 2 instead of 1 (as if another
 * writer wrote inblob too); n < 0: every answer. */
void fake_tsm_race(struct fake_tsm *f, int n);

/* fake_tsm_no_certs: answer with an empty auxblob (a host that provides no certificates). */
void fake_tsm_no_certs(struct fake_tsm *f, bool on);

/* fake_tsm_answers: how many inblob writes were answered so far. */
unsigned fake_tsm_answers(struct fake_tsm *f);

/* fake_tsm_stop stops the thread and removes root with everything in it. */
void fake_tsm_stop(struct fake_tsm *f);

#endif
