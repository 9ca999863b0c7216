/* For tests/test_spec_width.sh: the bundled scenarios, loaded against the
 * tables of an edited copy of the spec, and the argsz that one scenario's
 * first send sets (DMA_MAP.argsz.exact's $sizeof.dma_map unless another id
 * is given), printed as "argsz N".  Exit 1 when the scenarios do not load
 * or that scenario sets no argsz. */
#include <stdio.h>
#include <string.h>

#include "vfu_codec.h"
#include "scn.h"

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: spec_width_scn SCENARIO-DIR [SCENARIO-ID]\n");
        return 2;
    }
    const char *id = argc == 3 ? argv[2] : "DMA_MAP.argsz.exact";
    struct scn_set set;
    struct scn_errors errs = {0};
    vfh_scn_set_init(&set);
    bool ok = vfh_scn_load_path(&set, argv[1], &errs);
    for (unsigned i = 0; i < errs.n; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    vfh_scn_errors_free(&errs);
    if (!ok) return 1;
    for (size_t i = 0; i < set.n; i++) {
        const struct scn_scenario *sc = &set.v[i];
        if (strcmp(sc->id, id)) continue;
        for (unsigned k = 0; k < sc->nsteps; k++) {
            if (sc->steps[k].kind != SCN_S_SEND) continue;
            for (unsigned j = 0; j < sc->steps[k].u.send.nitems; j++) {
                const struct scn_item *it = &sc->steps[k].u.send.items[j];
                /* the request's own argsz, whichever struct holds it:
                 * the struct's role=argsz field, as the generator found it */
                const struct vfu_field_desc *fd = vfu_field(it->field);
                if (it->kind == SCN_I_SET && fd && vfu_argsz_field(fd->sid) == it->field) {
                    printf("argsz %llu\n", (unsigned long long)it->val.num);
                    vfh_scn_set_free(&set);
                    return 0;
                }
            }
        }
    }
    vfh_scn_set_free(&set);
    fprintf(stderr, "%s sets no argsz\n", id);
    return 1;
}
