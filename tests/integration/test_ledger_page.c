/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The auditors' page (/ledger/) against the real veriteed: a ledger made by real admin
 * changes, attestations, a release and a denial (an admin token whose sub is hostile
 * HTML); the page's headers (an exact Content-Security-Policy whose style hash matches
 * the page's style block), escaping of entry values and query values, its authorization;
 * and the page in a real headless browser (Debian's chromium): its rows, a filter, a
 * screenshot kept as an artefact (build/artifacts/ledger-page.png).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "crypto/seal.h"
#include "testutil.h"
#include "token/admin.h"
#include "util/b64.h"
#include "util/hex.h"
#include "util/json.h"
#include "vtdtest.h"

/* an admin's sub that is HTML, quotes, an ampersand and non-ASCII text */
#define HOSTILE "<script>alert(1)</script> \"q\" 'a' & \xc3\xa9t\xc3\xa9"
#define HOSTILE_ESC                                                                                \
        "&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &#39;a&#39; &amp; \xc3\xa9t\xc3\xa9"
#define HOSTILE_DOM "&lt;script&gt;alert(1)&lt;/script&gt; \"q\" 'a' &amp; \xc3\xa9t\xc3\xa9"

static struct vt_sim_guest guest;
static struct server S, P; /* S: ledger.public; P: the ledger behind admin tokens */
static char tok_admin[600], tok_evil[600], tok_reader[600], measurement[97];
static unsigned n_kind[4], n_total; /* attest, release, deny, admin */
static const char *const kinds[] = {"attest", "release", "deny", "admin"};

static void path_in(char *buf, size_t n, const char *name)
{
        snprintf(buf, n, "%s/%s", vtt_dir, name);
}

static void make_token(const char *key, enum vt_admin_role role, const char *sub, const char *out)
{
        char *jwt = NULL;
        struct vt_diag d = {0};
        if (vt_admin_token_make(key, role, NULL, 0, 3600, sub, &jwt, &d) < 0)
                fail_msg("admin token: %s", d.msg);
        write_text(out, jwt);
        free(jwt);
}

static void bearer(const char *token_file, char *out, size_t n)
{
        char *t = slurp(token_file);
        snprintf(out, n, "Bearer %s", t);
        free(t);
}

/* A GET with the response headers kept. */
struct resp {
        long status;
        char *body;
        size_t len;
        char headers[8192];
        size_t hlen;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
        struct resp *r = ud;
        char *nb = realloc(r->body, r->len + sz * n + 1);
        if (!nb)
                return 0;
        memcpy(nb + r->len, p, sz * n);
        r->len += sz * n;
        nb[r->len] = 0;
        r->body = nb;
        return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
        struct resp *r = ud;
        size_t k = sz * n;
        if (r->hlen + k < sizeof(r->headers)) {
                memcpy(r->headers + r->hlen, p, k);
                r->hlen += k;
                r->headers[r->hlen] = 0;
        }
        return k;
}

static struct resp get(const struct server *s, const char *path, const char *authz)
{
        struct resp r = {0};
        char url[1024], ah[2048];
        struct curl_slist *hdr = NULL;
        CURL *c = curl_easy_init();
        assert_non_null(c);
        snprintf(url, sizeof(url), "%s%s", s->url, path);
        if (authz) {
                snprintf(ah, sizeof(ah), "Authorization: %s", authz);
                hdr = curl_slist_append(NULL, ah);
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        if (!r.body)
                r.body = calloc(1, 1);
        return r;
}

/* header_value copies the value of header name (case-insensitive, the first) into out. */
static bool header_value(const struct resp *r, const char *name, char *out, size_t n)
{
        size_t nl = strlen(name);
        for (const char *l = r->headers; l && *l;
             l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
                        const char *v = l + nl + 1;
                        while (*v == ' ')
                                v++;
                        size_t vl = strcspn(v, "\r\n");
                        snprintf(out, n, "%.*s", (int)vl, v);
                        return true;
                }
        }
        return false;
}

static unsigned count(const char *hay, const char *needle)
{
        unsigned n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

/* ledger_counts reads the entries through the JSON API and counts them by kind; returns
 * the size of the latest signed tree head. */
static uint64_t ledger_counts(void)
{
        struct resp r = get(&S, "/ledger/entries?start=0", NULL);
        assert_int_equal(r.status, 200);
        json_auto_t *j = json_loads(r.body, 0, NULL);
        assert_non_null(j);
        memset(n_kind, 0, sizeof(n_kind));
        json_t *es = json_object_get(j, "entries");
        n_total = (unsigned)json_array_size(es);
        for (size_t i = 0; i < json_array_size(es); i++) {
                const char *k = json_string_value(
                        json_object_get(json_object_get(json_array_get(es, i), "entry"), "kind"));
                for (size_t x = 0; x < 4; x++)
                        if (k && strcmp(k, kinds[x]) == 0)
                                n_kind[x]++;
        }
        free(r.body);
        r = get(&S, "/ledger/sth", NULL);
        json_auto_t *sth = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
        free(r.body);
        return sth ? (uint64_t)json_integer_value(json_object_get(sth, "size")) : 0;
}

static int cli(const char *verb, const char *path, const char *file, const char *policy,
               const char *token)
{
        return vt_test_sh("'%s' %s %s '%s' --policy '%s' --server %s --token '%s' >/dev/null",
                          bin("veritee"), verb, path, file, policy, S.url, token);
}

static const char *policy_sim =
        "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\",\"equals\":\"affirming\"},"
        "{\"claim\":\"/submods/cpu0/veritee.simulated\",\"equals\":true}]}";
static const char *policy_other = "{\"allOf\":[{\"claim\":\"/submods/cpu0/ear.status\","
                                  "\"equals\":\"contraindicated\"}]}";

static int setup(void **state)
{
        char p[512], key[512], pub[512], cfg[2048];
        struct vt_diag d = {0};
        (void)state;
        if (vtt_setup_sim("ledgerpage", &guest) < 0)
                return -1;
        vt_hex_encode(guest.measurement, 48, measurement);
        path_in(p, sizeof(p), "kek");
        path_in(key, sizeof(key), "admin.key");
        path_in(pub, sizeof(pub), "admin.pub");
        if (vt_kek_generate(p, &d) < 0 || vt_admin_keygen(key, pub, &d) < 0) {
                fprintf(stderr, "setup: %s\n", d.msg);
                return -1;
        }
        path_in(tok_admin, sizeof(tok_admin), "admin.jwt");
        path_in(tok_evil, sizeof(tok_evil), "evil.jwt");
        path_in(tok_reader, sizeof(tok_reader), "reader.jwt");
        make_token(key, VT_ROLE_ADMIN, "auditor-test", tok_admin);
        make_token(key, VT_ROLE_ADMIN, HOSTILE, tok_evil);
        make_token(key, VT_ROLE_READER, "reader", tok_reader);
        char rv[256];
        snprintf(rv, sizeof(rv), "{\"sim\":{\"measurements\":[\"%s\"]}}", measurement);
        path_in(p, sizeof(p), "rv.json");
        write_text(p, rv);
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state\n"
                 "attestation:\n  reference_values: %s/rv.json\n  simulator_root: %s/root.pem\n"
                 "secrets:\n  kek_file: %s/kek\nadmin:\n  keys: [%s]\n"
                 "ledger:\n  public: true\n  sth_every_ms: 100\n",
                 vtt_dir, vtt_dir, vtt_simdir, vtt_dir, pub);
        server_start(&S, "page", cfg);
        snprintf(cfg, sizeof(cfg),
                 "listen: 127.0.0.1:0\nstate_dir: %s/state-private\nadmin:\n  keys: [%s]\n",
                 vtt_dir, pub);
        server_start(&P, "private", cfg);

        /* the ledger: admin changes (one by the hostile sub), attestations, a release, a
         * denial by policy */
        char sec[512], pol[512], pol2[512], out[512];
        path_in(sec, sizeof(sec), "secret.txt");
        path_in(pol, sizeof(pol), "policy.json");
        path_in(pol2, sizeof(pol2), "policy-other.json");
        path_in(out, sizeof(out), "fetched.txt");
        write_text(sec, "ledger page test secret");
        write_text(pol, policy_sim);
        write_text(pol2, policy_other);
        if (cli("secret put", "default/key/db", sec, pol, tok_admin) != 0 ||
            cli("secret put", "default/key/other", sec, pol2, tok_evil) != 0 ||
            vt_test_sh("'%s' agent get-resource --kbs %s default/key/db -o '%s' --tee sim "
                       "--sim-dir '%s'",
                       bin("veritee"), S.url, out, vtt_simdir) != 0) {
                fprintf(stderr, "setup: could not make the ledger's entries\n");
                return -1;
        }
        json_auto_t *jwk = new_jwk();
        char *token = attest_token(&S, &guest, jwk);
        char authz[32768];
        snprintf(authz, sizeof(authz), "Bearer %s", token);
        free(token);
        struct http h =
                request_full(&S, "GET", "/kbs/v0/resource/default/key/other", NULL, 0, NULL, authz);
        free(h.body);
        if (h.status != 401) {
                fprintf(stderr, "setup: the denial answered %ld\n", h.status);
                return -1;
        }
        /* every entry under a signed tree head (sth_every_ms: 100) */
        for (int i = 0; i < 100; i++) {
                if (ledger_counts() == n_total)
                        return 0;
                usleep(100 * 1000);
        }
        fprintf(stderr, "setup: no tree head covers the %u entries\n", n_total);
        return -1;
}

static int teardown(void **state)
{
        (void)state;
        server_stop_all();
        if (getenv("VT_KEEP_TMP"))
                return 0;
        if (vt_test_sh("rm -rf '%s'", vtt_dir) != 0)
                return -1;
        curl_global_cleanup();
        return 0;
}

/* style_csp computes the policy the page must carry from its own style block. */
static void style_csp(const char *body, char *out, size_t n)
{
        const char *a = strstr(body, "<style>"), *b = a ? strstr(a, "</style>") : NULL;
        assert_non_null(b);
        a += strlen("<style>");
        uint8_t h[32];
        char *b64 = NULL;
        assert_true(EVP_Digest(a, (size_t)(b - a), h, NULL, EVP_sha256(), NULL));
        assert_int_equal(vt_b64_encode(h, 32, VT_B64_STD, &b64), 0);
        snprintf(out, n,
                 "default-src 'none'; style-src 'sha256-%s'; img-src 'none'; form-action 'self'; "
                 "frame-ancestors 'none'; base-uri 'none'",
                 b64);
        free(b64);
        /* one style block, no script, no external asset */
        assert_int_equal(count(body, "<style"), 1);
        assert_null(strstr(body, "<script"));
        assert_null(strstr(body, "<link"));
        assert_null(strstr(body, "<img"));
        assert_null(strstr(body, " style="));
}

static void test_page_headers_and_escaping(void **state)
{
        (void)state;
        struct resp r = get(&S, "/ledger/", NULL);
        char v[512], want[512];
        assert_int_equal(r.status, 200);
        assert_true(header_value(&r, "Content-Type", v, sizeof(v)));
        assert_string_equal(v, "text/html; charset=utf-8");
        assert_true(header_value(&r, "Content-Security-Policy", v, sizeof(v)));
        style_csp(r.body, want, sizeof(want));
        assert_string_equal(v, want);
        assert_true(header_value(&r, "X-Content-Type-Options", v, sizeof(v)));
        assert_string_equal(v, "nosniff");
        assert_true(header_value(&r, "X-Frame-Options", v, sizeof(v)));
        assert_string_equal(v, "DENY");
        assert_true(strncmp(r.body, "<!DOCTYPE html>", 15) == 0);
        /* every row, the tree head, and the hostile admin escaped */
        assert_int_equal(count(r.body, "<tr class=\"entry "), n_total);
        assert_int_equal(count(r.body, "verified against tree head of size"), n_total);
        assert_non_null(strstr(r.body, "class=\"ok\">verifies with the ledger key"));
        assert_non_null(strstr(r.body, HOSTILE_ESC));
        assert_null(strstr(r.body, "<script"));
        assert_null(strstr(r.body, HOSTILE));
        free(r.body);

        /* query values come back escaped into the form (and the older link) */
        r = get(&S,
                "/ledger/?resource=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E%26%C3%A9%27&kind=deny",
                NULL);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
                                       "&amp;\xc3\xa9&#39;\""));
        assert_null(strstr(r.body, "<script"));
        assert_non_null(strstr(r.body, "id=\"empty\""));
        assert_int_equal(count(r.body, "<tr class=\"entry "), 0);
        free(r.body);

        /* a control character becomes U+FFFD; a raw NUL never reaches the page */
        r = get(&S, "/ledger/?tee=a%01b%7F", NULL);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "value=\"a\xef\xbf\xbd"
                                       "b\xef\xbf\xbd\""));
        free(r.body);
        r = get(&S, "/ledger/?tee=a%00%3Cb%3E", NULL);
        assert_int_equal(r.status, 400);
        assert_null(strstr(r.body, "<b>"));
        free(r.body);

        /* refused filters: 400, with the page and the reason */
        r = get(&S, "/ledger/?kind=%3Cb%3E", NULL);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.body, "kind must be one of attest, release, deny, admin"));
        assert_null(strstr(r.body, "<b>"));
        free(r.body);
        r = get(&S, "/ledger/?from=yesterday", NULL);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.body, "from must be an RFC 3339 time or a date"));
        free(r.body);

        /* filters: resource, tee, time, paging */
        r = get(&S, "/ledger/?resource=key/other&kind=deny", NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry kind-deny\""), n_kind[2]);
        assert_int_equal(count(r.body, "<tr class=\"entry "), n_kind[2]);
        assert_non_null(strstr(r.body, "denied: release default/key/other denied"));
        free(r.body);
        r = get(&S, "/ledger/?tee=sim", NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry "), n_kind[0]);
        free(r.body);
        r = get(&S, "/ledger/?to=2000-01-01", NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry "), 0);
        free(r.body);
        r = get(&S, "/ledger/?from=2000-01-01T00:00:00Z&to=2999-12-31", NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry "), n_total);
        free(r.body);
        r = get(&S, "/ledger/?before=2", NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry "), 2);
        assert_non_null(strstr(r.body, "id=\"e1\""));
        assert_non_null(strstr(r.body, "id=\"e0\""));
        free(r.body);
}

static void test_page_authorization(void **state)
{
        (void)state;
        char authz[2048];
        struct resp r = get(&P, "/ledger/", NULL);
        assert_int_equal(r.status, 401);
        assert_null(strstr(r.body, "<html"));
        free(r.body);
        r = get(&P, "/ledger", NULL);
        assert_int_equal(r.status, 401);
        free(r.body);
        bearer(tok_reader, authz, sizeof(authz));
        r = get(&P, "/ledger/", authz);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "<h1>veritee ledger</h1>"));
        free(r.body);
        /* the API beside it still answers */
        r = get(&P, "/ledger/jwks", authz);
        assert_int_equal(r.status, 200);
        free(r.body);
        r = get(&S, "/ledger", NULL);
        assert_int_equal(r.status, 200);
        free(r.body);
        /* the page takes GET only */
        struct http h = request_full(&S, "POST", "/ledger/", "x", 1, NULL, NULL);
        assert_int_equal(h.status, 405);
        free(h.body);
}

static const char *chromium(void)
{
        static char found[256];
        const char *names[] = {"chromium", "chromium-browser"};
        const char *dirs[] = {"/usr/bin", "/usr/local/bin", "/snap/bin"};
        for (size_t i = 0; i < 2; i++)
                for (size_t k = 0; k < 3; k++) {
                        snprintf(found, sizeof(found), "%s/%s", dirs[k], names[i]);
                        if (access(found, X_OK) == 0)
                                return found;
                }
        return NULL;
}

/* browse runs the headless browser on path with args; its output (--dump-dom) goes to
 * out. Its console (where a Content-Security-Policy violation is reported) goes to
 * VTT_DIR/chromium.log, which must not report one. */
static void browse(const char *exe, const char *args, const char *path, const char *out)
{
        char log[512];
        path_in(log, sizeof(log), "chromium.log");
        int r = vt_test_sh("timeout 120 '%s' --headless=new --no-sandbox --disable-gpu "
                           "--user-data-dir='%s/chromium' --no-first-run --hide-scrollbars "
                           "--enable-logging=stderr --v=0 %s '%s%s' >'%s' 2>'%s'",
                           exe, vtt_dir, args, S.url, path, out, log);
        if (r != 0)
                fail_msg("chromium exited with %d (see %s)", r, log);
        char *l = slurp(log);
        if (strstr(l, "Content Security Policy"))
                fail_msg("the browser reports a Content-Security-Policy violation (see %s)", log);
        free(l);
}

static void test_page_in_browser(void **state)
{
        (void)state;
        const char *exe = chromium();
        if (!exe) {
                if (getenv("CI"))
                        fail_msg("chromium not installed (scripts/deps.sh test)");
                vtt_skip("chromium not installed (scripts/deps.sh test)");
        }
        char out[512];
        path_in(out, sizeof(out), "dom.html");
        browse(exe, "--dump-dom", "/ledger/", out);
        char *dom = slurp(out);
        assert_int_equal(count(dom, "<tr class=\"entry "), n_total);
        for (size_t k = 0; k < 4; k++) {
                char cls[64];
                snprintf(cls, sizeof(cls), "<tr class=\"entry kind-%s\"", kinds[k]);
                assert_true(n_kind[k] > 0);
                assert_int_equal(count(dom, cls), n_kind[k]);
        }
        assert_int_equal(count(dom, "verified against tree head of size"), n_total);
        assert_non_null(strstr(dom, "default/key/db"));
        assert_non_null(strstr(dom, "default/key/other"));
        assert_non_null(strstr(dom, HOSTILE_DOM)); /* text, not an element */
        assert_null(strstr(dom, "<script"));
        free(dom);

        browse(exe, "--dump-dom", "/ledger/?kind=release", out);
        dom = slurp(out);
        assert_int_equal(count(dom, "<tr class=\"entry "), n_kind[1]);
        assert_int_equal(count(dom, "<tr class=\"entry kind-release\""), n_kind[1]);
        assert_non_null(strstr(dom, "<option value=\"release\" selected=\"\">"));
        free(dom);

        /* the screenshot, kept beside the build */
        char dir[512], png[600];
        const char *vb = getenv("VT_BIN");
        if (vb && strlen(vb) > 4 && strcmp(vb + strlen(vb) - 4, "/bin") == 0)
                snprintf(dir, sizeof(dir), "%.*s/artifacts", (int)(strlen(vb) - 4), vb);
        else
                path_in(dir, sizeof(dir), "artifacts");
        assert_int_equal(vt_test_sh("mkdir -p '%s'", dir), 0);
        snprintf(png, sizeof(png), "%s/ledger-page.png", dir);
        unlink(png);
        char args[700];
        snprintf(args, sizeof(args), "--screenshot='%s' --window-size=1280,900", png);
        path_in(out, sizeof(out), "screenshot.out");
        browse(exe, args, "/ledger/", out);
        size_t n = 0;
        uint8_t *b = vt_test_load(png, &n);
        assert_true(n > 10000); /* a page of text and colour, not a blank */
        assert_memory_equal(b, "\x89PNG\r\n\x1a\n", 8);
        assert_memory_equal(b + 12, "IHDR", 4);
        uint32_t w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
        uint32_t hgt = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
        assert_int_equal(w, 1280);
        assert_int_equal(hgt, 900);
        free(b);
        print_message("ledger page screenshot: %s (%zu bytes)\n", png, n);
}

/* Paging: 100 rows at most, an "older" link below the last one shown that keeps the
 * filters, and the rest behind it. Runs last: it grows the ledger past a page. */
static void test_page_paging(void **state)
{
        (void)state;
        char authz[2048], path[128];
        bearer(tok_admin, authz, sizeof(authz));
        for (int i = 0; i < 100; i++) {
                snprintf(path, sizeof(path), "/kbs/v0/resource/default/page/k%d", i);
                struct http h = request_full(&S, "PUT", path, "v", 1, NULL, authz);
                assert_int_equal(h.status, 200);
                free(h.body);
        }
        uint64_t covered = 0;
        for (int i = 0; i < 100 && (covered = ledger_counts()) != n_total; i++)
                usleep(100 * 1000);
        assert_int_equal(covered, n_total);
        assert_true(n_total > 100);
        unsigned first = n_total - 100; /* the oldest index on the first page */
        struct resp r = get(&S, "/ledger/", NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry "), 100);
        char link[160];
        snprintf(link, sizeof(link), "id=\"older\" href=\"/ledger/?before=%u\"", first);
        assert_non_null(strstr(r.body, link));
        snprintf(link, sizeof(link), "id=\"e%u\"", first);
        assert_non_null(strstr(r.body, link));
        free(r.body);
        snprintf(path, sizeof(path), "/ledger/?before=%u", first);
        r = get(&S, path, NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry "), first);
        assert_null(strstr(r.body, "id=\"older\""));
        assert_non_null(strstr(r.body, "id=\"e0\""));
        free(r.body);
        /* the link keeps the filters, percent-encoded */
        r = get(&S, "/ledger/?kind=admin&resource=page/k&from=2000-01-01", NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry kind-admin\""), 100);
        assert_non_null(
                strstr(r.body, "&amp;kind=admin&amp;resource=page%2Fk&amp;from=2000-01-01\""));
        free(r.body);
        r = get(&S, "/ledger/?kind=deny", NULL);
        assert_int_equal(count(r.body, "<tr class=\"entry "), n_kind[2]);
        assert_null(strstr(r.body, "id=\"older\""));
        free(r.body);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_page_headers_and_escaping),
                cmocka_unit_test(test_page_authorization),
                cmocka_unit_test(test_page_in_browser),
                cmocka_unit_test(test_page_paging),
        };
        return vtt_run_group_tests(tests, setup, teardown);
}
