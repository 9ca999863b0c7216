/* Built by tests/test_spec_width.sh against tables generated from an edited
 * copy of the spec: it reports what the codec does with those tables, and
 * knows no layout of its own.
 *
 *   spec_width_probe size                 VFU_SIZE_DMA_MAP
 *   spec_width_probe dma-map FILE         writes a DMA_MAP request
 *   spec_width_probe io-fds FILE          writes a REGION_IO_FDS reply (ioregionfd)
 *   spec_width_probe decode FILE          "OK field=value..." or "ERR CODE field" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_codec.h"
#include "spec_tables.h"

static int write_msg(struct vfu_enc *e, const char *path)
{
    struct vfu_error err;
    if (!vfu_enc_finish(e, &err)) {
        char s[256];
        vfu_error_str(&err, s, sizeof s);
        fprintf(stderr, "encode: %s\n", s);
        return 1;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(e->buf, 1, e->len, f) != e->len || fclose(f)) {
        perror(path);
        return 1;
    }
    return 0;
}

static int decode(const char *path)
{
    static uint8_t buf[1 << 16];
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* one fd: what DMA_MAP may and REGION_IO_FDS must carry */
    int fd = 3;
    struct vfu_msg m;
    struct vfu_error err;
    if (!vfu_decode(&m, buf, len, &fd, 1, NULL, VFU_ROLE_ANY, &err)) {
        printf("ERR %s %s\n", vfu_errc_name(err.code), err.field >= 0 ? vfu_field_name(err.field) : "-");
        return 0;
    }
    printf("OK");
    /* every integer of the body, by the names the tables give */
    const struct vfu_struct_desc *s = &vfu_spec.structs[m.parts[0].sid];
    for (unsigned i = 0; i < s->nfields; i++) {
        int fid = s->first_field + (int)i;
        if (vfu_spec.fields[fid].kind == VFU_K_UINT)
            printf(" %s=%#llx", vfu_field_name(fid), (unsigned long long)vfu_get(&m, fid));
    }
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "size")) {
        printf("%u\n", VFU_SIZE_DMA_MAP);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "decode")) return decode(argv[2]);
    static uint8_t buf[4096];
    struct vfu_enc e;
    if (argc == 3 && !strcmp(argv[1], "dma-map")) {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 1);
        vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ | VFU_DMA_MAP_FLAGS_WRITE);
        vfu_enc_set(&e, VFU_F_DMA_MAP_OFFSET, 0x1000);
        vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, 0x7f0000000000ULL);
        vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, 0x200000);
        return write_msg(&e, argv[2]);
    }
    if (argc == 3 && !strcmp(argv[1], "io-fds")) {
        vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DEVICE_GET_REGION_IO_FDS, true, 1);
        vfu_enc_elem(&e, VFU_F_REGION_IO_FDS_SUB_REGIONS);
        vfu_enc_set(&e, VFU_F_SUB_REGION_SIZE, 8);
        vfu_enc_set(&e, VFU_F_SUB_REGION_TYPE, VFU_IO_FD_TYPE_IOREGIONFD);
        vfu_enc_set(&e, VFU_F_IOREGIONFD_USER_DATA, 0x1234);
        return write_msg(&e, argv[2]);
    }
    fprintf(stderr, "usage: %s size | dma-map FILE | io-fds FILE | decode FILE\n", argv[0]);
    return 2;
}
