/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "veritee/veritee.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        const int64_t era = (y >= 0 ? y : y - 399) / 400;
        const unsigned yoe = (unsigned)(y - era * 400);
        const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *ret)
{
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int vt_time_parse_rfc3339(const char *s, int64_t *ret)
{
        int Y, M, D, h, m, sec;
        if (!s || strlen(s) < 20)
                return VT_E_FORMAT;
        if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
            digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
            digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) || s[16] != ':' ||
            digits(s + 17, 2, &sec))
                return VT_E_FORMAT;
        if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
                return VT_E_FORMAT;
        static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
        if (D > mdays[M - 1] || (M == 2 && D == 29 && !leap))
                return VT_E_FORMAT;
        const char *p = s + 19;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return VT_E_FORMAT;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        int64_t off = 0;
        if ((*p == 'Z' || *p == 'z') && p[1] == 0) {
                off = 0;
        } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
                int oh, om;
                if (digits(p + 1, 2, &oh) || digits(p + 4, 2, &om) || oh > 23 || om > 59)
                        return VT_E_FORMAT;
                off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        } else {
                return VT_E_FORMAT;
        }
        int64_t t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 +
                    (sec == 60 ? 59 : sec);
        *ret = t - off;
        return 0;
}

void vt_time_format_rfc3339(int64_t t, char buf[static 21])
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm)) {
                snprintf(buf, 21, "invalid-time");
                return;
        }
        /* years beyond 9999 do not fit: say so instead of leaving buf unterminated */
        if (strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 21, "out-of-range-time");
}
