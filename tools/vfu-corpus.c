/* vfu-corpus: seeds and dictionaries for the fuzz targets (fuzz/README.md).
 *
 *   vfu-corpus traces OUTDIR TRACE...   every message of each CBOR trace as
 *       seeds: OUTDIR/server_session and OUTDIR/client (the session each
 *       side received, lib/runtime/trace_session.h), OUTDIR/decode (each message,
 *       option byte first: its fd count), OUTDIR/caps (each VERSION
 *       proposal with the reply to it)
 *   vfu-corpus spec OUTDIR              one well-formed message per command
 *       and direction from the generated tables, as seeds of the same
 *       targets (server sessions start with a default VERSION)
 *   vfu-corpus dict TARGET              a libFuzzer/AFL dictionary on stdout
 *       from the tables: command numbers, flag and enum values, field
 *       widths' boundary values, capability names, JSON tokens
 *
 * Seed files are named after what they came from; nothing in OUTDIR is
 * removed first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vfu_caps.h"
#include "vfu_codec.h"
#include "fuzz_session.h"
#include "trace.h"
#include "trace_session.h"

static int mkdirs(const char *out, const char *sub)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", out);
    if (mkdir(p, 0755) < 0 && errno != EEXIST) return -1;
    snprintf(p, sizeof p, "%s/%s", out, sub);
    if (mkdir(p, 0755) < 0 && errno != EEXIST) return -1;
    return 0;
}

static bool write_file(const char *out, const char *sub, const char *name, const void *buf, size_t n)
{
    char p[4096];
    if (mkdirs(out, sub) < 0) {
        fprintf(stderr, "vfu-corpus: %s/%s: %s\n", out, sub, strerror(errno));
        return false;
    }
    snprintf(p, sizeof p, "%s/%s/%s", out, sub, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "vfu-corpus: %s: %s\n", p, strerror(errno));
        if (f) fclose(f);
        return false;
    }
    return true;
}

static bool write_session(const char *out, const char *sub, const char *name, const struct vfu_fs *fs)
{
    if (!fs->n) return true;
    size_t n = vfu_fs_size(fs);
    uint8_t *buf = malloc(n);
    if (!buf) return false;
    vfu_fs_write(fs, buf, n);
    bool ok = write_file(out, sub, name, buf, n);
    free(buf);
    return ok;
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* the VERSION data of a decoded message, without its NUL */
static const uint8_t *version_json(const struct vfu_msg *m, uint32_t *n)
{
    const uint8_t *p = vfu_data(m, VFU_F_VERSION_DATA, n);
    while (p && *n && p[*n - 1] == 0) (*n)--;
    return p;
}

static bool from_trace(const char *out, const char *path)
{
    struct vfu_trace t;
    char why[256];
    if (!vfu_trace_load(path, &t, why, sizeof why)) {
        fprintf(stderr, "vfu-corpus: %s: %s\n", path, why);
        return false;
    }
    char name[512];
    snprintf(name, sizeof name, "%s", base(path));
    char *dot = strrchr(name, '.');
    if (dot) *dot = 0;
    static struct vfu_fs fs;
    bool ok = true;
    vfu_trace_to_session(&t, VFU_ROLE_SERVER, &fs);
    ok &= write_session(out, "server_session", name, &fs);
    vfu_trace_to_session(&t, VFU_ROLE_CLIENT, &fs);
    ok &= write_session(out, "client", name, &fs);
    const uint8_t *prop = NULL;
    uint32_t nprop = 0;
    uint16_t pmaj = 0, pmin = 0;
    for (size_t i = 0; i < t.n && ok; i++) {
        const struct vfu_trace_event *ev = &t.ev[i];
        if (!ev->len || ev->len > (1u << 16)) continue;
        uint8_t *b = malloc(ev->len + 1);
        if (!b) return false;
        b[0] = (uint8_t)(ev->nfds & 7);
        memcpy(b + 1, ev->bytes, ev->len);
        char n2[600];
        snprintf(n2, sizeof n2, "%s-%zu", name, i);
        ok &= write_file(out, "decode", n2, b, ev->len + 1);
        free(b);
        /* VERSION proposal and its reply -> one caps seed */
        struct vfu_msg m;
        struct vfu_error err;
        if (!vfu_decode(&m, ev->bytes, ev->len, NULL, 0, NULL, VFU_ROLE_ANY, &err) ||
            m.hdr.cmd != VFU_CMD_VERSION || m.is_error)
            continue;
        uint32_t nj;
        const uint8_t *j = version_json(&m, &nj);
        if (!m.is_reply) {
            prop = j, nprop = nj;
            pmaj = (uint16_t)vfu_get(&m, VFU_F_VERSION_MAJOR);
            pmin = (uint16_t)vfu_get(&m, VFU_F_VERSION_MINOR);
        } else if (prop) {
            size_t cap = nprop + nj + 2 + 8;
            uint8_t *c = malloc(cap), *p = c;
            if (!c) return false;
            memcpy(p, prop, nprop), p += nprop, *p++ = 0;
            if (nj) memcpy(p, j, nj);
            p += nj, *p++ = 0;
            uint16_t v[4] = {pmaj, pmin, (uint16_t)vfu_get(&m, VFU_F_VERSION_MAJOR),
                             (uint16_t)vfu_get(&m, VFU_F_VERSION_MINOR)};
            for (int k = 0; k < 4; k++) *p++ = (uint8_t)v[k], *p++ = (uint8_t)(v[k] >> 8);
            ok &= write_file(out, "caps", name, c, (size_t)(p - c));
            free(c);
            prop = NULL;
        }
    }
    vfu_trace_release(&t);
    return ok;
}

/* ---------------------------------------------------------------- spec */

static size_t version_msg(uint8_t *buf, size_t cap, bool reply, uint16_t id)
{
    struct vfu_caps c;
    vfu_caps_init(&c);
    vfu_caps_set(&c, VFU_CAP_MAX_MSG_FDS, 8);
    vfu_caps_set(&c, VFU_CAP_MAX_DATA_XFER_SIZE, VFU_DEFAULT_MAX_DATA_XFER_SIZE);
    vfu_caps_set(&c, VFU_CAP_WRITE_MULTIPLE, 1);
    vfu_caps_set(&c, VFU_CAP_MIGRATION_PGSIZE, 4096);
    char json[1024];
    int n = vfu_caps_to_json(&c, json, sizeof json);
    struct vfu_enc e;
    vfu_enc_begin(&e, buf, cap, VFU_CMD_VERSION, reply, id);
    vfu_enc_set(&e, VFU_F_VERSION_MAJOR, vfu_spec_major());
    vfu_enc_set(&e, VFU_F_VERSION_MINOR, vfu_spec_minor());
    vfu_enc_data(&e, VFU_F_VERSION_DATA, json, (size_t)n + 1);
    return vfu_enc_finish(&e, NULL) ? e.len : 0;
}

static struct vfu_fs_record rec(uint8_t kind, uint8_t flags, const uint8_t *msg, size_t len)
{
    struct vfu_fs_record r;
    memset(&r, 0, sizeof r);
    r.kind = kind, r.flags = flags, r.msg = msg, r.len = (uint32_t)len;
    return r;
}

static bool from_spec(const char *out)
{
    static uint8_t ver[2048], ver_reply[2048], req[4096], rep[4096];
    size_t nver = version_msg(ver, sizeof ver, false, 1);
    size_t nver_reply = version_msg(ver_reply, sizeof ver_reply, true, 1);
    bool ok = true;
    static struct vfu_fs fs;
    for (unsigned cmd = 1; cmd <= VFU_CMD_MAX; cmd++) {
        const struct vfu_cmd_desc *d = vfu_cmd(cmd);
        if (!d) continue;
        struct vfu_enc e;
        vfu_enc_begin(&e, req, sizeof req, (uint16_t)cmd, false, 2);
        size_t nreq = vfu_enc_finish(&e, NULL) ? e.len : 0;
        vfu_enc_begin(&e, rep, sizeof rep, (uint16_t)cmd, true, 2);
        size_t nrep = vfu_enc_finish(&e, NULL) ? e.len : 0;
        if (cmd == VFU_CMD_VERSION) {
            nreq = version_msg(req, sizeof req, false, 2);
            nrep = version_msg(rep, sizeof rep, true, 2);
        }
        char name[128];
        uint8_t b[4097];
        for (int r = 0; r < 2; r++) {
            size_t n = r ? nrep : nreq;
            if (!n) continue;
            b[0] = 0;
            memcpy(b + 1, r ? rep : req, n);
            snprintf(name, sizeof name, "spec-%s-%s", d->name, r ? "reply" : "request");
            ok &= write_file(out, "decode", name, b, n + 1);
        }
        snprintf(name, sizeof name, "spec-%s", d->name);
        fs.n = 0;
        if (d->dir == VFU_DIR_CLIENT) {
            /* the server gets VERSION then the request; the client makes
             * the request and gets the reply */
            fs.rec[fs.n++] = rec(VFU_FS_MSG, VFU_FS_FIX_ID, ver, nver);
            if (nreq) fs.rec[fs.n++] = rec(VFU_FS_MSG, VFU_FS_FIX_ID, req, nreq);
            ok &= write_session(out, "server_session", name, &fs);
            fs.n = 0;
            fs.rec[fs.n++] = rec(VFU_FS_REPLY, VFU_FS_FIX_ID, ver_reply, nver_reply);
            if (nrep && cmd != VFU_CMD_VERSION) fs.rec[fs.n++] = rec(VFU_FS_REPLY, VFU_FS_FIX_ID, rep, nrep);
            ok &= write_session(out, "client", name, &fs);
        } else {
            /* server-to-client: the client gets the request, the server
             * the reply to its own */
            fs.rec[fs.n++] = rec(VFU_FS_REPLY, VFU_FS_FIX_ID, ver_reply, nver_reply);
            if (nreq) fs.rec[fs.n++] = rec(VFU_FS_MSG, VFU_FS_FIX_ID, req, nreq);
            ok &= write_session(out, "client", name, &fs);
            fs.n = 0;
            fs.rec[fs.n++] = rec(VFU_FS_MSG, VFU_FS_FIX_ID, ver, nver);
            if (nrep) fs.rec[fs.n++] = rec(VFU_FS_REPLY, VFU_FS_FIX_ID, rep, nrep);
            ok &= write_session(out, "server_session", name, &fs);
        }
    }
    return ok;
}

/* ---------------------------------------------------------------- dict */

static void dict_bytes(const char *name, const uint8_t *p, unsigned n)
{
    printf("%s=\"", name);
    for (unsigned i = 0; i < n; i++) printf("\\x%02x", p[i]);
    printf("\"\n");
}

static void dict_uint(const char *name, uint64_t v, unsigned width)
{
    uint8_t b[8];
    vfu_write_uint(b, width, v);
    dict_bytes(name, b, width);
}

static void dict_text(const char *name, const char *s)
{
    printf("%s=\"", name);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else printf("%c", *s);
    }
    printf("\"\n");
}

static void dict_binary(void)
{
    char n[160];
    for (unsigned c = 0; c <= VFU_CMD_MAX; c++)
        if (vfu_cmd(c)) {
            snprintf(n, sizeof n, "cmd_%s", vfu_cmd(c)->name);
            dict_uint(n, c, 2);
        }
    for (unsigned i = 0; i < vfu_nbit_vals(); i++) {
        const struct vfu_bit_desc *b = vfu_bit((int)i);
        snprintf(n, sizeof n, "flag_%u_%s", i, b->name);
        dict_uint(n, b->mask, 4);
    }
    for (unsigned i = 0; i < vfu_nenum_vals(); i++) {
        snprintf(n, sizeof n, "enum_%u_%s", i, vfu_enum_val((int)i)->name);
        dict_uint(n, vfu_enum_val((int)i)->value, 4);
    }
    /* the header's flags: command, reply, error reply, no_reply */
    dict_uint("hdr_reply", VFU_MSG_TYPE_REPLY, 4);
    dict_uint("hdr_error_reply", VFU_MSG_TYPE_REPLY | VFU_HDR_FLAGS_ERROR, 4);
    dict_uint("hdr_no_reply", VFU_HDR_FLAGS_NO_REPLY, 4);
    /* boundary values of sizes, offsets and counts */
    static const uint64_t b64[] = {0xffffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffff000ull,
                                   0x100000000ull, 0x100000ull, 0x1000ull};
    for (unsigned i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
        snprintf(n, sizeof n, "u64_%u", i);
        dict_uint(n, b64[i], 8);
    }
    static const uint32_t b32[] = {0xffffffffu, 0x80000000u, 0x100000u, 0x1000u, VFU_HDR_SIZE};
    for (unsigned i = 0; i < sizeof b32 / sizeof b32[0]; i++) {
        snprintf(n, sizeof n, "u32_%u", i);
        dict_uint(n, b32[i], 4);
    }
    /* struct sizes: argsz values */
    for (unsigned i = 0; i < vfu_nstructs(); i++) {
        snprintf(n, sizeof n, "size_%s", vfu_struct((int)i)->name);
        dict_uint(n, vfu_struct((int)i)->size, 4);
    }
}

static void dict_json(void)
{
    char n[160];
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        char q[128];
        const char *name = vfu_cap_name(i), *leaf = strrchr(name, '.');
        snprintf(q, sizeof q, "\"%s\"", leaf ? leaf + 1 : name);
        snprintf(n, sizeof n, "cap_%d", i);
        dict_text(n, q);
    }
    static const char *const tok[] = {"{", "}", "[", "]", ":", ",", "\"capabilities\"", "true", "false",
                                      "null", "0", "-1", "18446744073709551615", "1e3", "\"\\u0000\"",
                                      "{\"capabilities\":{"};
    for (unsigned i = 0; i < sizeof tok / sizeof tok[0]; i++) {
        snprintf(n, sizeof n, "json_%u", i);
        dict_text(n, tok[i]);
    }
}

static void dict_scn(void)
{
    char n[160];
    for (unsigned c = 0; c <= VFU_CMD_MAX; c++)
        if (vfu_cmd(c)) {
            snprintf(n, sizeof n, "cmd_%u", c);
            dict_text(n, vfu_cmd(c)->name);
        }
    for (unsigned i = 0; i < vfu_nfields(); i++) {
        snprintf(n, sizeof n, "field_%u", i);
        dict_text(n, vfu_field((int)i)->name);
    }
    for (unsigned i = 0; i < vfu_nbit_vals(); i++) {
        snprintf(n, sizeof n, "bit_%u", i);
        dict_text(n, vfu_bit((int)i)->name);
    }
    for (unsigned i = 0; i < vfu_nenum_vals(); i++) {
        snprintf(n, sizeof n, "enumv_%u", i);
        dict_text(n, vfu_enum_val((int)i)->name);
    }
    for (int i = 0; i < VFU_CAP__COUNT; i++) {
        snprintf(n, sizeof n, "cap_%d", i);
        dict_text(n, vfu_cap_name(i));
    }
}

static void dict_cbor(void)
{
    static const char *const keys[] = {"format", "vfu-trace", "version", "meta", "tool", "start", "cap",
                                       "scenario", "server", "caps", "events", "t", "dir", "tx", "rx",
                                       "chan", "bytes", "fds", "kind", "size", "err", "code", "got",
                                       "want", "errno", "cmd", "truncated", "reason", "memfd", "eventfd"};
    char n[64];
    for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        /* a CBOR text string of up to 23 bytes: major type 3, length inline */
        uint8_t b[32];
        size_t len = strlen(keys[i]);
        b[0] = (uint8_t)(0x60 | len);
        memcpy(b + 1, keys[i], len);
        snprintf(n, sizeof n, "key_%u", i);
        dict_bytes(n, b, (unsigned)len + 1);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "traces")) {
        bool ok = true;
        for (int i = 3; i < argc; i++) ok &= from_trace(argv[2], argv[i]);
        return ok ? 0 : 1;
    }
    if (argc == 3 && !strcmp(argv[1], "spec")) return from_spec(argv[2]) ? 0 : 1;
    if (argc == 3 && !strcmp(argv[1], "dict")) {
        const char *t = argv[2];
        if (!strcmp(t, "decode") || !strcmp(t, "server_session") || !strcmp(t, "client")) {
            dict_binary();
            if (strcmp(t, "decode")) dict_json();
        } else if (!strcmp(t, "caps")) {
            dict_json();
        } else if (!strcmp(t, "scn")) {
            dict_scn();
        } else if (!strcmp(t, "trace")) {
            dict_cbor();
        } else {
            fprintf(stderr, "vfu-corpus: dict: unknown target '%s'\n", t);
            return 2;
        }
        return 0;
    }
    fprintf(stderr, "usage: vfu-corpus traces OUTDIR TRACE...\n"
                    "       vfu-corpus spec OUTDIR\n"
                    "       vfu-corpus dict TARGET\n");
    return 2;
}
