/* Operators on whole sessions (lib/runtime/fuzz_session.h): records inserted
 * (freshly generated messages, a disconnect, a doorbell), deleted,
 * duplicated and moved; fds added, removed, changed in kind or size; one
 * record's message mutated; and two sessions spliced.  The input is copied
 * first, so records keep pointing at stable bytes while the output is
 * written over the caller's buffer; new messages go to an arena.  Both
 * buffers grow only when a larger max_size is first seen. */
#include "mutate_int.h"

#include <stdlib.h>
#include <string.h>

static const struct vfu_field_desc *F(int id) { return vfu_field(id); }

static bool reserve(uint8_t **p, size_t *cap, size_t n)
{
    if (*cap >= n) return true;
    uint8_t *q = realloc(*p, n);
    if (!q) return false;
    *p = q;
    *cap = n;
    return true;
}

uint8_t *vfu_mut_arena(struct vfu_mut *m, size_t n)
{
    if (m->arena_cap - m->arena_len < n) return NULL;
    return m->arena + m->arena_len;
}

/* messages the side under test receives travel this way */
static bool to_server(const struct vfu_mut *m) { return m->target == VFU_ROLE_SERVER; }

static void rec_remove(struct vfu_fs *fs, unsigned i)
{
    memmove(&fs->rec[i], &fs->rec[i + 1], (fs->n - i - 1) * sizeof fs->rec[0]);
    fs->n--;
}

static bool rec_insert(struct vfu_fs *fs, unsigned i, const struct vfu_fs_record *r)
{
    if (fs->n == VFU_FS_MAX_RECORDS) return false;
    memmove(&fs->rec[i + 1], &fs->rec[i], (fs->n - i) * sizeof fs->rec[0]);
    fs->rec[i] = *r;
    fs->n++;
    return true;
}

/* a size for a memfd: what the message's fd-space fields reach, near it,
 * or a page */
static uint32_t memfd_size(struct vfu_mut *m, const uint8_t *msg, size_t len)
{
    vfu_mut_view(m, msg, len, &m->view);
    for (unsigned i = 0; i < m->view.nf; i++) {
        const struct mut_field *mf = &m->view.f[i];
        const struct vfu_field_desc *f = F(mf->fid);
        if (f->space != VFU_SP_FD || f->span_field < 0) continue;
        uint64_t end = vfu_read_uint(msg + mf->off, f->width) +
                       vfu_read_uint(msg + mf->base + F(f->span_field)->offset, F(f->span_field)->width);
        if (end > VFU_FS_MAX_MEMFD) end = VFU_FS_MAX_MEMFD;
        switch (vfu_mut_below(m, 4)) {
        case 0: return (uint32_t)(end ? end - 1 : 0);   /* one byte short */
        case 1: return 0;
        default: return (uint32_t)end;
        }
    }
    return 4096;
}

/* fds for a message: memfds where its fields address a file, else eventfds */
static void set_fds(struct vfu_mut *m, struct vfu_fs_record *r, unsigned n)
{
    bool file = false;
    vfu_mut_view(m, r->msg, r->len, &m->view);
    for (unsigned i = 0; i < m->view.nf; i++) file |= F(m->view.f[i].fid)->space == VFU_SP_FD;
    if (!file) {
        /* a reply that hands out an fd hands out a file (REGION_INFO, IO_FDS) */
        const struct vfu_cmd_desc *c = m->view.is_reply ? vfu_cmd(m->view.cmd) : NULL;
        file = c && c->fds[1].rule != VFU_FDS_NONE;
    }
    r->nfds = (uint8_t)(n > VFU_FS_MAX_FDS ? VFU_FS_MAX_FDS : n);
    uint32_t size = file ? memfd_size(m, r->msg, r->len) : 0;
    for (unsigned k = 0; k < r->nfds; k++) {
        r->fds[k].kind = file ? VFU_FS_FD_MEMFD : VFU_FS_FD_EVENTFD;
        r->fds[k].size = size;
    }
}

static bool op_insert(struct vfu_mut *m, struct vfu_fs *fs, size_t cap)
{
    struct vfu_fs_record r;
    memset(&r, 0, sizeof r);
    unsigned at = (unsigned)vfu_mut_below(m, fs->n + 1);
    if (mut_chance(m, 8)) {
        r.kind = mut_chance(m, 2) ? VFU_FS_DISCONNECT : VFU_FS_IOEVENT;
        return rec_insert(fs, at, &r);
    }
    uint8_t *buf = vfu_mut_arena(m, cap);
    if (!buf) return false;
    unsigned cmd = 0, nfds = 0;
    bool reply = false;
    for (int tries = 0; tries < 64 && !cmd; tries++) {
        unsigned n = (unsigned)vfu_mut_below(m, vfu_ncmds());
        const struct vfu_cmd_desc *d = vfu_cmd(n);
        if (!d) continue;
        cmd = n;
        reply = (d->dir == VFU_DIR_CLIENT) != to_server(m);
    }
    size_t len = vfu_mut_generate(m, cmd, reply, (uint16_t)fs->n, buf, cap, &nfds);
    if (!len) return false;
    m->arena_len += len;
    r.kind = reply ? VFU_FS_REPLY : VFU_FS_MSG;
    r.flags = VFU_FS_FIX_ID;
    r.msg = buf;
    r.len = (uint32_t)len;
    set_fds(m, &r, nfds);
    vfu_mut_learn(m, buf, len);
    return rec_insert(fs, at, &r);
}

static bool op_rec_msg(struct vfu_mut *m, struct vfu_fs *fs, size_t cap)
{
    if (!fs->n) return false;
    struct vfu_fs_record *r = &fs->rec[vfu_mut_below(m, fs->n)];
    if (r->kind != VFU_FS_MSG && r->kind != VFU_FS_REPLY) return false;
    uint8_t *buf = vfu_mut_arena(m, cap);
    if (!buf) return false;
    size_t len = !r->msg ? 0 : r->len < cap ? r->len : cap;
    if (len) memcpy(buf, r->msg, len);
    m->cur_nfds = r->nfds;
    len = vfu_mut_message(m, buf, len, cap, to_server(m));
    m->arena_len += len;
    r->msg = buf;
    r->len = (uint32_t)len;
    return true;
}

static bool op_fd_count(struct vfu_mut *m, struct vfu_fs *fs)
{
    if (!fs->n) return false;
    struct vfu_fs_record *r = &fs->rec[vfu_mut_below(m, fs->n)];
    if (r->nfds && mut_chance(m, 2)) {
        r->nfds--;
        return true;
    }
    if (r->msg && r->len >= VFU_HDR_SIZE && mut_chance(m, 4)) {
        /* one more, all of the kind the message's fields call for */
        set_fds(m, r, r->nfds + 1u);
        return true;
    }
    if (r->nfds == VFU_FS_MAX_FDS) return false;
    r->fds[r->nfds].kind = (uint8_t)vfu_mut_below(m, VFU_FS_FD__KINDS);
    r->fds[r->nfds].size = 4096;
    r->nfds++;
    return true;
}

static bool op_fd_kind(struct vfu_mut *m, struct vfu_fs *fs)
{
    if (!fs->n) return false;
    struct vfu_fs_record *r = &fs->rec[vfu_mut_below(m, fs->n)];
    if (!r->nfds) return false;
    struct vfu_fs_fd *fd = &r->fds[vfu_mut_below(m, r->nfds)];
    if (mut_chance(m, 2)) {
        fd->kind = (uint8_t)vfu_mut_below(m, VFU_FS_FD__KINDS);
        return true;
    }
    static const uint32_t sizes[] = {0, 1, 4095, 4096, 4097, 8192, 0x10000, 0x100000};
    uint32_t s = sizes[vfu_mut_below(m, sizeof sizes / sizeof sizes[0])];
    if (r->msg && mut_chance(m, 2)) s = memfd_size(m, r->msg, r->len);
    fd->size = s;
    return true;
}

static bool op_rec_kind(struct vfu_mut *m, struct vfu_fs *fs)
{
    if (!fs->n) return false;
    struct vfu_fs_record *r = &fs->rec[vfu_mut_below(m, fs->n)];
    if (mut_chance(m, 2)) r->flags ^= (uint8_t)(1u << vfu_mut_below(m, 3));
    else r->kind = (uint8_t)vfu_mut_below(m, VFU_FS__KINDS);
    return true;
}

static bool session_op(struct vfu_mut *m, struct vfu_fs *fs, size_t cap, unsigned op)
{
    unsigned i, j;
    switch (op) {
    case VFU_MUT_OP_REC_MSG: return op_rec_msg(m, fs, cap);
    case VFU_MUT_OP_REC_INSERT: return op_insert(m, fs, cap);
    case VFU_MUT_OP_REC_DELETE:
        if (fs->n < 2) return false;
        rec_remove(fs, (unsigned)vfu_mut_below(m, fs->n));
        return true;
    case VFU_MUT_OP_REC_DUP: {
        if (!fs->n) return false;
        struct vfu_fs_record r = fs->rec[vfu_mut_below(m, fs->n)];
        return rec_insert(fs, (unsigned)vfu_mut_below(m, fs->n + 1), &r);
    }
    case VFU_MUT_OP_REC_MOVE: {
        if (fs->n < 2) return false;
        i = (unsigned)vfu_mut_below(m, fs->n);
        struct vfu_fs_record r = fs->rec[i];
        rec_remove(fs, i);
        j = (unsigned)vfu_mut_below(m, fs->n + 1);
        return rec_insert(fs, j, &r);
    }
    case VFU_MUT_OP_FD_COUNT: return op_fd_count(m, fs);
    case VFU_MUT_OP_FD_KIND: return op_fd_kind(m, fs);
    case VFU_MUT_OP_REC_KIND: return op_rec_kind(m, fs);
    }
    return false;
}

static const uint8_t weights[][2] = {
    {VFU_MUT_OP_REC_MSG, 50}, {VFU_MUT_OP_REC_INSERT, 10}, {VFU_MUT_OP_REC_DELETE, 6},
    {VFU_MUT_OP_REC_DUP, 6}, {VFU_MUT_OP_REC_MOVE, 6}, {VFU_MUT_OP_FD_COUNT, 5},
    {VFU_MUT_OP_FD_KIND, 5}, {VFU_MUT_OP_REC_KIND, 3},
};

static unsigned pick(struct vfu_mut *m)
{
    unsigned total = 0, n = sizeof weights / sizeof weights[0];
    for (unsigned i = 0; i < n; i++) total += weights[i][1];
    uint64_t k = vfu_mut_below(m, total);
    for (unsigned i = 0; i < n; i++) {
        if (k < weights[i][1]) return weights[i][0];
        k -= weights[i][1];
    }
    return VFU_MUT_OP_REC_MSG;
}

/* the records of fs into out; records are dropped from the end until it
 * fits, and a session never comes out empty */
static size_t emit(struct vfu_mut *m, struct vfu_fs *fs, uint8_t *out, size_t max_size)
{
    for (;;) {
        size_t n = fs->n ? vfu_fs_write(fs, out, max_size) : 0;
        if (n) return n;
        if (fs->n <= 1) break;
        rec_remove(fs, (unsigned)vfu_mut_below(m, fs->n));
    }
    return 0;
}

/* memory for the copy and the arena, sized for this call's max_size */
static bool prepare(struct vfu_mut *m, size_t in_size, size_t max_size)
{
    if (!reserve(&m->in, &m->in_cap, in_size ? in_size : 1)) return false;
    /* several messages may be mutated or inserted in one call */
    if (!reserve(&m->arena, &m->arena_cap, 4 * max_size + 4096)) return false;
    m->arena_len = 0;
    return true;
}

static size_t byte_fallback(struct vfu_mut *m, uint8_t *data, size_t size, size_t max_size)
{
    if (!size) {
        data[0] = (uint8_t)vfu_mut_rand(m);
        return 1;
    }
    if (size > max_size) size = max_size;
    data[vfu_mut_below(m, size)] ^= (uint8_t)(1u << vfu_mut_below(m, 8));
    m->stats.ops[VFU_MUT_OP_BYTES]++;
    return size;
}

size_t vfu_mut_session(struct vfu_mut *m, uint8_t *data, size_t size, size_t max_size)
{
    if (!max_size) return 0;
    if (!prepare(m, size, max_size)) return byte_fallback(m, data, size, max_size);
    memcpy(m->in, data, size);
    vfu_fs_parse(m->in, size, &m->fs);
    vfu_mut_learn_reset(m);
    for (unsigned i = 0; i < m->fs.n; i++) {
        m->cur_nfds = m->fs.rec[i].nfds;
        if (m->fs.rec[i].len >= VFU_HDR_SIZE) vfu_mut_learn(m, m->fs.rec[i].msg, m->fs.rec[i].len);
    }
    /* a message alone never exceeds what the whole input may take */
    size_t cap = max_size;
    unsigned nops = 1 + (unsigned)vfu_mut_below(m, 4);
    if (!m->fs.n && session_op(m, &m->fs, cap, VFU_MUT_OP_REC_INSERT)) m->stats.ops[VFU_MUT_OP_REC_INSERT]++;
    for (unsigned k = 0; k < nops; k++)
        for (int tries = 0; tries < 8; tries++) {
            unsigned op = pick(m);
            if (!session_op(m, &m->fs, cap, op)) continue;
            m->stats.ops[op]++;
            break;
        }
    size_t n = emit(m, &m->fs, data, max_size);
    return n ? n : byte_fallback(m, data, size, max_size);
}

size_t vfu_mut_crossover(struct vfu_mut *m, const uint8_t *a, size_t na, const uint8_t *b,
                         size_t nb, uint8_t *out, size_t max_size)
{
    if (!max_size) return 0;
    vfu_fs_parse(a, na, &m->fs);
    vfu_fs_parse(b, nb, &m->fs2);
    struct vfu_fs *fa = &m->fs, *fb = &m->fs2;
    m->stats.ops[VFU_MUT_OP_CROSSOVER]++;
    if (fb->n) {
        /* b's records [j, j + k) go into a at i: a prefix and a suffix when
         * i and j + k meet the ends, an insertion otherwise */
        unsigned i = (unsigned)vfu_mut_below(m, fa->n + 1);
        unsigned j = (unsigned)vfu_mut_below(m, fb->n);
        unsigned k = 1 + (unsigned)vfu_mut_below(m, fb->n - j);
        if (mut_chance(m, 2)) fa->n = i;   /* splice: a's tail dropped */
        for (unsigned x = 0; x < k && fa->n < VFU_FS_MAX_RECORDS; x++)
            rec_insert(fa, i + x > fa->n ? fa->n : i + x, &fb->rec[j + x]);
    }
    size_t n = emit(m, fa, out, max_size);
    if (n) return n;
    /* nothing parsed or nothing fits: a's first bytes */
    n = na < max_size ? na : max_size;
    if (!n) { out[0] = 0; return 1; }
    memcpy(out, a, n);
    return n;
}
