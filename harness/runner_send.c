/* `send`: the request is encoded through the codec from the items, values
 * filled in at run time, then (for @ items) edited as bytes, and sent
 * without waiting; its expect collects the answer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runner_int.h"
#include "vfu_spec.h"
#define MEMFD_DEFAULT 0x1000u
#define MEMFD_MAX (1ull << 40)

/* where the latest instance of a field sits in the message, as the encoder
 * set it: its struct part, else the latest element of an array of it */
static long field_pos(const struct vfu_enc *e, int field)
{
    const struct vfu_field_desc *f = vfu_field(field);
    for (int i = (int)e->nparts - 1; i >= 0; i--)
        if (e->parts[i].kind == VFU_P_STRUCT && e->parts[i].sid == f->sid)
            return (long)(VFU_HDR_SIZE + e->parts[i].off + f->offset);
    for (int i = (int)e->nparts - 1; i >= 0; i--) {
        const struct vfu_part *p = &e->parts[i];
        if (p->kind == VFU_P_ARRAY && p->count && p->sid == f->sid)
            return (long)(VFU_HDR_SIZE + p->off + (uint64_t)(p->count - 1) * p->stride + f->offset);
    }
    return -1;
}

struct explicit_set { long pos; unsigned width; uint64_t v; };

struct build {
    uint8_t *buf;
    size_t cap;
    struct vfu_enc e;
    int own[SCN_MAX_FDS];          /* fds we opened and close after sending */
    unsigned nown;
    struct explicit_set sets[SCN_MAX_TOKENS];
    unsigned nsets;
    bool no_reply, unchecked, edited;
};

static int memfd_of(uint64_t size, struct outcome *o)
{
    int fd = memfd_create("vfu-conform", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        /* what this machine refuses says nothing of the server */
        vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "this system refused a memfd of %llu bytes: %s", (unsigned long long)size,
                strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

/* the default memfd covers what a DMA_MAP of it asks for */
static uint64_t memfd_size(struct sess *s, const struct scn_step *st)
{
    uint64_t off = 0, size = 0, v;
    struct outcome o = {0};
    for (unsigned i = 0; i < st->u.send.nitems; i++) {
        const struct scn_item *it = &st->u.send.items[i];
        if (it->kind != SCN_I_SET || !vfh_runner_eval(s, &it->val, &v, &o)) continue;
        if (it->field == VFU_F_DMA_MAP_OFFSET) off = v;
        if (it->field == VFU_F_DMA_MAP_SIZE) size = v;
    }
    uint64_t want = off + size;
    return want < off || want > MEMFD_MAX || want < MEMFD_DEFAULT ? MEMFD_DEFAULT : want;
}

static const struct named_map *find_map(struct sess *s, const char *name)
{
    for (unsigned i = 0; i < s->nmaps; i++)
        if (!strcmp(s->maps[i].name, name)) return &s->maps[i];
    return NULL;
}

static int named_eventfd(struct sess *s, const char *name, struct outcome *o)
{
    for (unsigned i = 0; name && i < s->nefds; i++)
        if (!strcmp(s->efds[i].name, name)) return s->efds[i].fd;
    struct vfu_error err;
    int fd = vfu_client_eventfd(s->c, &err);
    if (fd < 0) {
        char e[200];
        vfu_error_str(&err, e, sizeof e);
        vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "this system refused an eventfd: %s", e);
        return -1;
    }
    if (name && s->nefds < sizeof s->efds / sizeof s->efds[0]) s->efds[s->nefds++] = (struct named_fd){name, fd};
    return fd;
}

/* No message carries more than the kernel's SCM_MAX_FD descriptors (253 on
 * Linux): a scenario that needs more (fds=$server.max_msg_fds+1 against a
 * server that states 253) cannot be played on this system, so it is
 * skipped, saying why, rather than counted against anyone. */
static bool fd_room(const struct build *b, uint64_t k, struct outcome *o)
{
    if (k <= SCN_MAX_FDS && b->e.nfds + k <= SCN_MAX_FDS) return true;
    vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE,
            "needs %llu file descriptors in one message; this system carries at most %d (SCM_MAX_FD)",
            (unsigned long long)(b->e.nfds + k), SCN_MAX_FDS);
    return false;
}

static bool add_fd(struct build *b, int fd, bool own)
{
    if (own) b->own[b->nown++] = fd;
    vfu_enc_fd(&b->e, fd);
    return true;
}

static bool items(struct sess *s, const struct scn_step *st, struct build *b, struct outcome *o)
{
    for (unsigned i = 0; i < st->u.send.nitems; i++) {
        const struct scn_item *it = &st->u.send.items[i];
        uint64_t v;
        const uint8_t *p;
        uint32_t n;
        int fd;
        switch (it->kind) {
        case SCN_I_SET:
            if (!vfh_runner_eval(s, &it->val, &v, o)) return false;
            vfu_enc_set(&b->e, it->field, v);
            if (b->e.err.code == VFU_OK) {
                long pos = field_pos(&b->e, it->field);
                if (pos >= 0) b->sets[b->nsets++] = (struct explicit_set){pos, vfu_field(it->field)->width, v};
            }
            break;
        case SCN_I_BYTES:
            if (!vfh_runner_eval_bytes(s, &it->bytes, &p, &n, o)) return false;
            if (n > vfu_field(it->field)->width) {
                vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "%s: %u bytes do not fit its %u", vfu_field_name(it->field), n,
                        vfu_field(it->field)->width);
                return false;
            }
            if (p) vfu_enc_bytes(&b->e, it->field, p, n);
            break;
        case SCN_I_DATA: {
            if (!vfh_runner_eval_bytes(s, &it->bytes, &p, &n, o)) return false;
            uint8_t *d = vfu_enc_data(&b->e, it->field, p, n);
            if (d && it->nul) vfu_enc_data(&b->e, it->field, "", 1);
            break;
        }
        case SCN_I_STRUCT: vfu_enc_struct(&b->e, it->sid); break;
        case SCN_I_ELEM: vfu_enc_elem(&b->e, it->field); break;
        case SCN_I_FD_MEMFD:
            if (!vfh_runner_eval(s, &it->val, &v, o)) return false;
            if (v > MEMFD_MAX) {
                vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "memfd size above 2^40");
                return false;
            }
            if (!fd_room(b, 1, o)) return false;
            if ((fd = memfd_of(it->val.num || it->val.nvars ? v : memfd_size(s, st), o)) < 0) return false;
            add_fd(b, fd, true);
            break;
        case SCN_I_FD_EVENTFD:
            if (!fd_room(b, 1, o)) return false;
            if ((fd = named_eventfd(s, it->name, o)) < 0) return false;
            add_fd(b, fd, false);
            break;
        case SCN_I_FD_DEVNULL:
        case SCN_I_FDS: {
            uint64_t k = 1;
            if (it->kind == SCN_I_FDS && !vfh_runner_eval(s, &it->val, &k, o)) return false;
            if (!fd_room(b, k, o)) return false;
            for (uint64_t j = 0; j < k; j++) {
                if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
                    vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "this system refused to open /dev/null: %s", strerror(errno));
                    return false;
                }
                add_fd(b, fd, true);
            }
            break;
        }
        case SCN_I_FD_MAP: {
            const struct named_map *m = find_map(s, it->name);
            if (!fd_room(b, 1, o)) return false;
            fd = m ? vfu_mem_fd(s->c, m->region) : -1;
            if (fd < 0) {
                vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "fd=map:%s: %s", it->name, m ? "a message-based mapping has no fd" : "no such mapping");
                return false;
            }
            add_fd(b, fd, false);
            break;
        }
        case SCN_I_NOREPLY: b->no_reply = true; break;
        case SCN_I_UNCHECKED: b->unchecked = true; break;
        default: b->edited = true; break;   /* @ items: after encoding */
        }
    }
    return true;
}

static size_t put_hdr(uint8_t *buf, size_t len, int field, uint64_t v)
{
    const struct vfu_field_desc *f = vfu_field(field);
    if (len < (size_t)f->offset + f->width) return 0;
    vfu_write_uint(buf + f->offset, f->width, v);
    return 1;
}

/* @ items on the finished bytes, in order; *len may change */
static bool edits(struct sess *s, const struct scn_step *st, struct build *b, size_t *len, struct outcome *o)
{
    int msg_size = vfu_field_by_name(vfu_header_sid(), "msg_size");
    for (unsigned i = 0; i < st->u.send.nitems; i++) {
        const struct scn_item *it = &st->u.send.items[i];
        uint64_t v;
        const uint8_t *p;
        uint32_t n;
        switch (it->kind) {
        case SCN_I_HDR:
            if (!vfh_runner_eval(s, &it->val, &v, o)) return false;
            if (!put_hdr(b->buf, *len, it->field, v)) {
                vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "@%s: the message is only %zu bytes", vfu_field_name(it->field), *len);
                return false;
            }
            break;
        case SCN_I_TRUNCATE:
            if (!vfh_runner_eval(s, &it->val, &v, o)) return false;
            if (v > *len) {
                vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "@truncate=%llu: the message is only %zu bytes", (unsigned long long)v, *len);
                return false;
            }
            *len = (size_t)v;
            put_hdr(b->buf, *len, msg_size, v);
            break;
        case SCN_I_APPEND:
            if (!vfh_runner_eval_bytes(s, &it->bytes, &p, &n, o)) return false;
            if (n > b->cap - *len) {
                vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "@append: no room");
                return false;
            }
            if (p) memcpy(b->buf + *len, p, n);
            else memset(b->buf + *len, 0, n);
            *len += n;
            put_hdr(b->buf, *len, msg_size, *len);
            break;
        case SCN_I_POKE:
            if (!vfh_runner_eval(s, &it->val, &v, o) || !vfh_runner_eval_bytes(s, &it->bytes, &p, &n, o)) return false;
            if (v > *len || n > *len - v) {
                vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "@poke at %llu: the message is only %zu bytes", (unsigned long long)v, *len);
                return false;
            }
            if (p) memcpy(b->buf + v, p, n);
            else memset(b->buf + v, 0, n);
            break;
        default:
            break;
        }
    }
    return true;
}

static size_t capacity(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    size_t cap = 64 * 1024;
    for (unsigned i = 0; i < st->u.send.nitems; i++) {
        const struct scn_item *it = &st->u.send.items[i];
        if (it->kind != SCN_I_DATA && it->kind != SCN_I_APPEND && it->kind != SCN_I_BYTES) continue;
        const uint8_t *p;
        uint32_t n;
        if (!vfh_runner_eval_bytes(s, &it->bytes, &p, &n, o)) return 0;
        cap += n + 1;
    }
    return cap;
}

/* sendmsg failures that come from this machine's limits, not the peer */
static bool local_refusal(const struct vfu_error *err)
{
    if (err->code != VFU_E_IO) return false;
    switch (err->sys_errno) {
    case ETOOMANYREFS:   /* fds in flight beyond our RLIMIT_NOFILE */
    case ENOBUFS:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
        return true;
    default:
        return false;
    }
}

bool vfh_runner_step_send(struct sess *s, const struct scn_step *st, struct outcome *o)
{
    if (s->nq == SCN_MAX_PENDING) {
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "too many sends waiting");
        return false;
    }
    struct build *b = calloc(1, sizeof *b);
    if (!b) { vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "out of memory"); return false; }
    bool ok = false;
    struct vfu_error err;
    b->cap = capacity(s, st, o);
    if (!b->cap) goto out;
    if (!(b->buf = malloc(b->cap))) { vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "out of memory"); goto out; }
    vfu_enc_begin(&b->e, b->buf, b->cap, st->u.send.cmd, false, 0);
    if (!items(s, st, b, o)) goto out;
    if (!vfu_enc_finish(&b->e, &err)) {
        char e[256];
        vfu_error_str(&err, e, sizeof e);
        vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "cannot encode the message: %s", e);
        goto out;
    }
    /* what the scenario set wins over what finish filled in */
    for (unsigned i = 0; i < b->nsets; i++) vfu_write_uint(b->buf + b->sets[i].pos, b->sets[i].width, b->sets[i].v);
    struct tick *t = &s->q[s->nq];
    memset(t, 0, sizeof *t);
    t->step = s->step;
    t->sent = true;
    bool sent;
    if (!b->edited) {
        struct vfu_send_opts so = {.no_reply = b->no_reply, .unchecked = b->unchecked};
        sent = vfu_client_send(s->c, &b->e, &so, &t->ticket, &err);
    } else {
        size_t len = b->e.len;
        int id_field = vfu_field_by_name(vfu_header_sid(), "msg_id");
        int flags_field = vfu_field_by_name(vfu_header_sid(), "flags");
        put_hdr(b->buf, len, id_field, vfu_client_next_id(s->c));
        struct vfu_hdr h0;
        if (b->no_reply && vfu_hdr_decode(b->buf, len, &h0, NULL))
            put_hdr(b->buf, len, flags_field, h0.flags | VFU_HDR_FLAGS_NO_REPLY);
        if (!edits(s, st, b, &len, o)) goto out;
        struct vfu_hdr h;
        struct vfu_expect x = {0, 0, true, true, false};
        if (vfu_hdr_decode(b->buf, len, &h, NULL)) {
            x = (struct vfu_expect){h.msg_id, h.cmd, false, false, (h.flags & VFU_HDR_FLAGS_NO_REPLY) != 0};
        }
        sent = vfu_client_send_raw(s->c, b->buf, len, b->e.fds, b->e.nfds, &x, &t->ticket, &err);
    }
    if (!sent) {
        bool gone = err.code == VFU_E_EOF || (err.code == VFU_E_IO && (err.sys_errno == EPIPE || err.sys_errno == ECONNRESET));
        if (err.code == VFU_E_TIMEOUT) {
            /* the server stopped reading */
            vfh_runner_out_set(o, VFU_FAIL, VFU_FK_TIMEOUT, "the server took nothing of the message within %d ms", s->R->timeout_ms);
            vfh_runner_target_judge(s->R, o, true);
            goto out;
        }
        if (!gone && local_refusal(&err)) {
            char e[256];
            vfu_error_str(&err, e, sizeof e);
            vfh_runner_out_set(o, VFU_SKIP, VFU_FK_NONE, "this system refused to send the message: %s", e);
            goto out;
        }
        if (!gone) {
            char e[256];
            vfu_error_str(&err, e, sizeof e);
            vfh_runner_out_set(o, VFU_ERROR, VFU_FK_NONE, "cannot send: %s%s", e,
                    err.code == VFU_E_FDS || err.code == VFU_E_XFER_LIMIT ? " (add `unchecked` to send it anyway)" : "");
            goto out;
        }
        /* the server is gone: the expect for this send tells whether that was right */
        t->sent = false;
        t->send_err = err;
    }
    s->nq++;
    ok = true;
out:
    for (unsigned i = 0; i < b->nown; i++) close(b->own[i]);
    free(b->buf);
    free(b);
    return ok;
}
