/* First proof that tables and codec agree: encode, decode, read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vfu_codec.h"

static void dma_map_round_trip(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct vfu_enc e;
    struct vfu_error err;
    vfu_enc_begin(&e, buf, sizeof buf, VFU_CMD_DMA_MAP, false, 7);
    vfu_enc_set(&e, VFU_F_DMA_MAP_FLAGS, VFU_DMA_MAP_FLAGS_READ);
    vfu_enc_set(&e, VFU_F_DMA_MAP_ADDRESS, 0x10000);
    vfu_enc_set(&e, VFU_F_DMA_MAP_SIZE, 0x2000);
    assert_true(vfu_enc_finish(&e, &err));
    assert_int_equal(e.len, 16 + 32);

    struct vfu_msg m;
    assert_true(vfu_decode(&m, buf, e.len, NULL, 0, NULL, VFU_ROLE_SERVER, &err));
    assert_int_equal(m.hdr.msg_id, 7);
    assert_int_equal(vfu_get(&m, VFU_F_DMA_MAP_ARGSZ), 32);
    assert_int_equal(vfu_get(&m, VFU_F_DMA_MAP_ADDRESS), 0x10000);
    assert_int_equal(vfu_get(&m, VFU_F_DMA_MAP_SIZE), 0x2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dma_map_round_trip),
    };
    return cmocka_run_group_tests_name("smoke", tests, NULL, NULL);
}
