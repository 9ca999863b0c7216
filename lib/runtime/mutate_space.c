/* What a session says about the places its messages address, learned by
 * field meaning rather than by command: every (address, length) pair names
 * a piece of guest DMA space (DMA_MAP, DMA_UNMAP, dirty-page ranges), and a
 * region length beside its index is that region's size (REGION_INFO
 * replies, in a client's input).  Boundary values then fall on the edges of
 * the mappings and regions the session itself set up. */
#include "mutate_int.h"

static const struct vfu_field_desc *F(int id) { return vfu_field(id); }

void vfu_mut_learn_reset(struct vfu_mut *m)
{
    m->ndma = 0;
    m->seen_region = 0;
}

static uint64_t at(const uint8_t *msg, size_t len, size_t base, int fid)
{
    if (fid < 0 || base + F(fid)->offset + F(fid)->width > len) return 0;
    return vfu_read_uint(msg + base + F(fid)->offset, F(fid)->width);
}

void vfu_mut_learn(struct vfu_mut *m, const uint8_t *msg, size_t len)
{
    vfu_mut_view(m, msg, len, &m->view);
    if (!m->view.decoded) return;   /* a mutant's values say nothing of the device */
    for (unsigned i = 0; i < m->view.nf; i++) {
        const struct mut_field *mf = &m->view.f[i];
        const struct vfu_field_desc *f = F(mf->fid);
        uint64_t v = vfu_read_uint(msg + mf->off, f->width);
        if (f->role == VFU_M_ADDRESS && f->space == VFU_SP_DMA && f->span_field >= 0) {
            uint64_t size = at(msg, len, mf->base, f->span_field);
            if (!size || m->ndma == MUT_MAX_DMA) continue;
            bool dup = false;
            for (unsigned k = 0; k < m->ndma; k++) dup |= m->dma[k].addr == v && m->dma[k].size == size;
            if (!dup) m->dma[m->ndma++] = (struct mut_dma){v, size};
        } else if (f->role == VFU_M_LENGTH && f->space == VFU_SP_REGION && f->space_field >= 0) {
            uint64_t idx = at(msg, len, mf->base, f->space_field);
            if (idx < VFU_MUT_MAX_REGIONS) {
                m->seen_region_size[idx] = v;
                m->seen_region |= 1u << idx;
            }
        }
    }
}
