/* The seeded-fault table; see srv_fault.h.  Process-wide on purpose: a
 * fault is a property of the program run, like its command line. */
#include "srv_fault.h"

#include <string.h>

static const struct {
    const char *name;
    const char *what;   /* the rule it breaks */
} table[FAULT__COUNT] = {
    [FAULT_DMA_OVERLAP_ACCEPTED] = {"dma-overlap-accepted", "DMA_MAP over an existing mapping succeeds (spec: EEXIST)"},
    [FAULT_DMA_UNMAP_INEXACT] = {"dma-unmap-inexact", "DMA_UNMAP of a range matching no mapping succeeds"},
    [FAULT_DMA_UNALIGNED_ACCEPTED] = {"dma-unaligned-accepted", "DMA_MAP not aligned to pgsizes succeeds"},
    [FAULT_DEVICE_INFO_ARGSZ_WRONG] = {"device-info-argsz-wrong", "DEVICE_GET_INFO reply argsz 4 too large"},
    [FAULT_REGION_INFO_BAD_INDEX_OK] = {"region-info-bad-index-ok", "GET_REGION_INFO for a region that does not exist succeeds"},
    [FAULT_REGION_INFO_NO_TRUNCATE] = {"region-info-no-truncate", "GET_REGION_INFO ignores a small argsz and sends the capabilities anyway"},
    [FAULT_IO_FDS_BAD_INDEX_OK] = {"io-fds-bad-index-ok", "GET_REGION_IO_FDS for a region that does not exist succeeds"},
    [FAULT_IRQ_INFO_BAD_INDEX_OK] = {"irq-info-bad-index-ok", "GET_IRQ_INFO for an index that does not exist succeeds"},
    [FAULT_SET_IRQS_RANGE_UNCHECKED] = {"set-irqs-range-unchecked", "SET_IRQS beyond the index's count succeeds"},
    [FAULT_REGION_READ_OOB_ZEROS] = {"region-read-oob-zeros", "REGION_READ past the end of a region returns zeros"},
    [FAULT_REGION_READ_ZERO_COUNT_CRASH] = {"region-read-zero-count-crash", "REGION_READ of 0 bytes crashes the server"},
    [FAULT_REGION_WRITE_REPLY_COUNT] = {"region-write-reply-count", "REGION_WRITE reply states a count other than the request's"},
    [FAULT_RESET_HANGS] = {"reset-hangs", "DEVICE_RESET never answers"},
    [FAULT_RESET_KEEPS_REGISTERS] = {"reset-keeps-registers", "DEVICE_RESET leaves the device state as it was"},
    [FAULT_REPLY_TO_NO_REPLY] = {"reply-to-no-reply", "commands sent with No_reply are answered"},
    [FAULT_WRONG_MSG_ID] = {"wrong-msg-id", "replies carry the request's msg_id plus one"},
    [FAULT_WRONG_REPLY_COMMAND] = {"wrong-reply-command", "DEVICE_GET_INFO replies name DEVICE_GET_IRQ_INFO"},
    [FAULT_ERROR_REPLY_PAYLOAD] = {"error-reply-payload", "error replies carry 8 bytes of payload"},
    [FAULT_UNKNOWN_COMMAND_SILENT] = {"unknown-command-silent", "unknown commands get no reply at all"},
    [FAULT_VERSION_MINOR_HIGHER] = {"version-minor-higher", "VERSION reply minor above the proposed one"},
    [FAULT_VERSION_MAJOR_ACCEPTED] = {"version-major-accepted", "a proposal with another major is accepted"},
    [FAULT_VERSION_UNPROPOSED_CAP] = {"version-unproposed-cap", "VERSION reply names write_multiple though not proposed"},
    [FAULT_XFER_LIMIT_IGNORED] = {"xfer-limit-ignored", "DMA_READ/DMA_WRITE ignore the client's max_data_xfer_size"},
    [FAULT_DMA_WRITE_CORRUPT] = {"dma-write-corrupt", "one byte of every DMA_WRITE (and mapped write) is flipped"},
    [FAULT_MIG_FORBIDDEN_ARC] = {"mig-forbidden-arc", "STOP_COPY -> PRE_COPY is allowed"},
    [FAULT_DIRTY_BITMAP_EMPTY] = {"dirty-bitmap-empty", "DMA_LOGGING_REPORT always reports a clean bitmap"},
    [FAULT_WRITE_MULTI_COUNT_WRONG] = {"write-multi-count-wrong", "REGION_WRITE_MULTI reply wr_cnt one short"},
    [FAULT_RESERVED_FLAGS_ACCEPTED] = {"reserved-flags-accepted", "reserved flag bits in requests are ignored instead of refused"},
};

static bool on[FAULT__COUNT];

bool srv_fault_parse(const char *name, enum srv_fault *f)
{
    for (int i = 0; i < FAULT__COUNT; i++)
        if (!strcmp(name, table[i].name)) {
            *f = (enum srv_fault)i;
            return true;
        }
    return false;
}

void srv_fault_enable(enum srv_fault f)
{
    if ((unsigned)f < FAULT__COUNT) on[f] = true;
}

void srv_fault_list(FILE *out)
{
    for (int i = 0; i < FAULT__COUNT; i++) fprintf(out, "%-30s %s\n", table[i].name, table[i].what);
}

bool srv_fault(enum srv_fault f)
{
    return (unsigned)f < FAULT__COUNT && on[f];
}
