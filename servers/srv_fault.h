/* Seeded faults: `vfu-refserver --fault NAME` makes the reference server
 * break one rule of the protocol on purpose, so that the conformance suite
 * can be shown to notice.  With no fault named, every hook is a no-op. */
#ifndef SRV_FAULT_H
#define SRV_FAULT_H

#include <stdbool.h>
#include <stdio.h>

enum srv_fault {
    FAULT_DMA_OVERLAP_ACCEPTED,
    FAULT_DMA_UNMAP_INEXACT,
    FAULT_DMA_UNALIGNED_ACCEPTED,
    FAULT_DEVICE_INFO_ARGSZ_WRONG,
    FAULT_REGION_INFO_BAD_INDEX_OK,
    FAULT_REGION_INFO_NO_TRUNCATE,
    FAULT_IO_FDS_BAD_INDEX_OK,
    FAULT_IRQ_INFO_BAD_INDEX_OK,
    FAULT_SET_IRQS_RANGE_UNCHECKED,
    FAULT_REGION_READ_OOB_ZEROS,
    FAULT_REGION_READ_ZERO_COUNT_CRASH,
    FAULT_REGION_WRITE_REPLY_COUNT,
    FAULT_RESET_HANGS,
    FAULT_RESET_KEEPS_REGISTERS,
    FAULT_REPLY_TO_NO_REPLY,
    FAULT_WRONG_MSG_ID,
    FAULT_WRONG_REPLY_COMMAND,
    FAULT_ERROR_REPLY_PAYLOAD,
    FAULT_UNKNOWN_COMMAND_SILENT,
    FAULT_VERSION_MINOR_HIGHER,
    FAULT_VERSION_MAJOR_ACCEPTED,
    FAULT_VERSION_UNPROPOSED_CAP,
    FAULT_XFER_LIMIT_IGNORED,
    FAULT_DMA_WRITE_CORRUPT,
    FAULT_MIG_FORBIDDEN_ARC,
    FAULT_DIRTY_BITMAP_EMPTY,
    FAULT_WRITE_MULTI_COUNT_WRONG,
    FAULT_RESERVED_FLAGS_ACCEPTED,
    FAULT__COUNT
};

/* "dma-overlap-accepted" -> true and *f; false for an unknown name */
bool srv_fault_parse(const char *name, enum srv_fault *f);
void srv_fault_enable(enum srv_fault f);
void srv_fault_list(FILE *out);
/* the hook: is fault f switched on in this process */
bool srv_fault(enum srv_fault f);

#endif
