/* Seeded faults: `vfu-refserver --fault NAME` makes the reference server
 * break one rule of the spec on purpose, so that the conformance suite can
 * be shown to catch it (tests/test_faults.sh runs every one).  Each fault is
 * one `if (srv_fault(s, FAULT_X))` at the point where the correct server
 * keeps the rule; with no --fault the server is exactly the reference.
 *
 * The table, in the order of the spec's sections:
 * X(ID, "name", "spec section it breaks", "what the server does") */
#ifndef SRV_FAULT_H
#define SRV_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SRV_FAULTS(X)                                                                          \
    X(FD_LEAK_PER_DMA_MAP, "fd-leak-per-dma-map", "Client Disconnection",                      \
      "keeps a duplicate of every DMA_MAP fd open forever")                                    \
    X(WRONG_MSG_ID, "wrong-msg-id", "Header",                                                  \
      "replies echo only the low byte of the request's message ID")                            \
    X(UNKNOWN_COMMAND_SILENT, "unknown-command-silent", "Header",                              \
      "a command number the spec does not define gets no reply at all")                        \
    X(WRONG_REPLY_COMMAND, "wrong-reply-command", "Header",                                    \
      "REGION_WRITE replies carry the command REGION_READ")                                    \
    X(REPLY_TO_NOREPLY, "reply-to-noreply", "Header",                                          \
      "commands sent with No_reply are answered anyway")                                       \
    X(ERROR_REPLY_WITH_PAYLOAD, "error-reply-with-payload", "Header",                          \
      "error replies carry the errno again as 4 bytes of payload")                             \
    X(HEADER_RESERVED_FLAGS_ACCEPTED, "header-reserved-flags-accepted", "Header",              \
      "header flag bits the spec does not define are ignored instead of refused")              \
    X(VERSION_MINOR_HIGHER, "version-minor-higher", "VFIO_USER_VERSION",                       \
      "replies with its own minor even above the one proposed")                                \
    X(VERSION_MAJOR_MISMATCH_ACCEPTED, "version-major-mismatch-accepted", "VFIO_USER_VERSION", \
      "accepts a proposal of another major version")                                           \
    X(VERSION_UNPROPOSED_CAPABILITY, "version-unproposed-capability", "VFIO_USER_VERSION",     \
      "states pgsizes in its reply to a proposal without capabilities")                        \
    X(VERSION_TWICE_ACCEPTED, "version-twice-accepted", "VFIO_USER_VERSION",                   \
      "a second VERSION in a session is answered with success")                                \
    X(TWIN_SOCKET_BAD_FD_INDEX, "twin-socket-bad-fd-index", "VFIO_USER_VERSION",               \
      "twin_socket.fd_index names an fd the reply does not carry")                             \
    X(DMA_MAX_MAPS_IGNORED, "dma-max-maps-ignored", "VFIO_USER_VERSION",                       \
      "more windows than the max_dma_maps it stated are accepted")                             \
    X(DMA_OVERLAP_ACCEPTED, "dma-overlap-accepted", "VFIO_USER_DMA_MAP",                       \
      "a map over an existing one succeeds instead of failing with EEXIST")                    \
    X(DMA_OVERLAP_READONLY_UNCHECKED, "dma-overlap-readonly-unchecked", "VFIO_USER_DMA_MAP",    \
      "a map over an existing read-only window succeeds instead of failing with EEXIST")       \
    X(DMA_MAP_OFFSET_TRUNC32, "dma-map-offset-trunc32", "VFIO_USER_DMA_MAP",                   \
      "DMA_MAP's file offset is kept in 32 bits: 2^32 + X maps the file at X")                 \
    X(DMA_UNALIGNED_ACCEPTED, "dma-unaligned-accepted", "VFIO_USER_DMA_MAP",                   \
      "address and size need not be multiples of the smallest pgsizes page")                   \
    X(DMA_RESERVED_FLAGS_ACCEPTED, "dma-reserved-flags-accepted", "VFIO_USER_DMA_MAP",         \
      "flag bits other than readable/writeable are ignored instead of refused")                \
    X(DMA_UNMAP_INEXACT, "dma-unmap-inexact", "VFIO_USER_DMA_UNMAP",                           \
      "an unmap of any range inside a window removes the whole window")                        \
    X(DMA_UNMAP_ADDR_TRUNC32, "dma-unmap-addr-trunc32", "VFIO_USER_DMA_UNMAP",                 \
      "DMA_UNMAP's address is kept in 32 bits: an unmap 2^32 above a window removes it")       \
    X(DMA_UNMAP_KEEPS_WINDOW, "dma-unmap-keeps-window", "VFIO_USER_DMA_UNMAP",                 \
      "replies to DMA_UNMAP of a window without fd but keeps using it")                        \
    X(DEVICE_INFO_ARGSZ_WRONG, "device-info-argsz-wrong", "VFIO_USER_DEVICE_GET_INFO",         \
      "the reply's argsz repeats the request's instead of the reply's size")                   \
    X(REGION_INFO_CAPS_PAST_ARGSZ, "region-info-caps-past-argsz",                              \
      "VFIO_USER_DEVICE_GET_REGION_INFO",                                                      \
      "sends the capability chain even when the request's argsz has no room for it")           \
    X(REGION_INFO_BAD_INDEX_OK, "region-info-bad-index-ok", "VFIO_USER_DEVICE_GET_REGION_INFO",\
      "answers an index past the last region with an empty region")                            \
    X(REGION_INFO_MMAP_NO_FD, "region-info-mmap-no-fd", "VFIO_USER_DEVICE_GET_REGION_INFO",    \
      "sets MMAP but sends no file descriptor with the full reply")                            \
    X(IO_FDS_BAD_INDEX_OK, "io-fds-bad-index-ok", "VFIO_USER_DEVICE_GET_REGION_IO_FDS",        \
      "answers an index past the last region with an empty success")                           \
    X(IRQ_INFO_BAD_INDEX_OK, "irq-info-bad-index-ok", "VFIO_USER_DEVICE_GET_IRQ_INFO",         \
      "answers an index past the last interrupt type with count 0")                            \
    X(SET_IRQS_COUNT_UNCHECKED, "set-irqs-count-unchecked", "VFIO_USER_DEVICE_SET_IRQS",       \
      "start/count past the index's vectors succeed (the excess is dropped)")                  \
    X(SET_IRQS_WRAP32, "set-irqs-wrap32", "VFIO_USER_DEVICE_SET_IRQS",                         \
      "start+count is judged in 32 bits: a range wrapping past 2^32 is answered with success") \
    X(SET_IRQS_EVENTFD_LAST_DROPPED, "set-irqs-eventfd-last-dropped", "VFIO_USER_DEVICE_SET_IRQS", \
      "of several eventfds in one DATA_EVENTFD message the last is not wired")                 \
    X(IRQ_BOOL_IGNORED, "irq-bool-ignored", "VFIO_USER_DEVICE_SET_IRQS",                       \
      "DATA_BOOL acts on every vector of the range, false ones too")                           \
    X(XFER_LIMIT_IGNORED, "xfer-limit-ignored", "Read and Write Operations",                   \
      "DMA_READ/DMA_WRITE counts ignore the client's max_data_xfer_size")                      \
    X(REGION_READ_OOB_ZEROS, "region-read-oob-zeros", "VFIO_USER_REGION_READ",                 \
      "a read past the region's end returns zeros instead of an error")                        \
    X(REGION_OFFSET_TRUNC32, "region-offset-trunc32", "VFIO_USER_REGION_READ",                 \
      "REGION_READ/WRITE offsets are kept in 32 bits: 2^32 + X accesses offset X")             \
    X(REGION_BAR_END_REFUSED, "region-bar-end-refused", "VFIO_USER_REGION_READ",               \
      "an access to a trapped BAR ending on its last byte is refused (off-by-one end check)")   \
    X(CRASH_ON_ZERO_COUNT_READ, "crash-on-zero-count-read", "VFIO_USER_REGION_READ",           \
      "aborts on a REGION_READ of count 0")                                                    \
    X(REGION_WRITE_OOB_IGNORED, "region-write-oob-ignored", "VFIO_USER_REGION_WRITE",          \
      "a write past the region's end is dropped and acknowledged")                             \
    X(CONFIG_WRITE_COUNT_FROM_PAYLOAD, "config-write-count-from-payload", "VFIO_USER_REGION_WRITE", \
      "a config-space write whose count and bytes disagree is done with the bytes' count")    \
    X(REGION_WRITE_REPLY_COUNT, "region-write-reply-count", "VFIO_USER_REGION_WRITE",          \
      "the reply's count is one more than the bytes written")                                  \
    X(DMA_WRITE_READONLY, "dma-write-readonly", "VFIO_USER_DMA_MAP",                           \
      "the device writes to windows mapped without the writeable flag")                        \
    X(DMA_WRITE_CORRUPT_BYTE, "dma-write-corrupt-byte", "VFIO_USER_DMA_WRITE",                 \
      "flips the first byte of the data it sends in DMA_WRITE")                                \
    X(HANG_ON_RESET, "hang-on-reset", "VFIO_USER_DEVICE_RESET",                                \
      "DEVICE_RESET never completes")                                                          \
    X(RESET_KEEPS_REGISTERS, "reset-keeps-registers", "VFIO_USER_DEVICE_RESET",                \
      "DEVICE_RESET succeeds without resetting the device")                                    \
    X(WRITE_MULTI_COUNT_WRONG, "write-multi-count-wrong", "VFIO_USER_REGION_WRITE_MULTI",      \
      "wr_cnt in the reply is one less than the writes done")                                  \
    X(FEATURE_PROBE_UNSUPPORTED_OK, "feature-probe-unsupported-ok",                            \
      "VFIO_USER_DEVICE_FEATURE",                                                              \
      "PROBE succeeds for GET/SET a feature does not support")                                 \
    X(DIRTY_REPORT_PAGES_TRUNC32, "dirty-report-pages-trunc32", "VFIO_USER_DEVICE_FEATURE",     \
      "DMA_LOGGING_REPORT keeps the page count in 32 bits: 2^32 + N pages answered as N")      \
    X(DIRTY_BITMAP_EMPTY, "dirty-bitmap-empty", "VFIO_USER_DEVICE_FEATURE",                    \
      "DMA_LOGGING_REPORT bitmaps are all zero")                                               \
    X(MIG_STOPCOPY_TO_PRECOPY_ALLOWED, "mig-stopcopy-to-precopy-allowed",                      \
      "VFIO_USER_DEVICE_FEATURE", "STOP_COPY -> PRE_COPY succeeds (through STOP, RUNNING)")    \
    X(MIG_DATA_READ_ANY_STATE, "mig-data-read-any-state", "VFIO_USER_MIG_DATA_READ",           \
      "MIG_DATA_READ outside the saving group answers with no data")                           \
    X(SECOND_CLIENT_REPLACES_FIRST, "second-client-replaces-first", "Socket",                  \
      "a client connecting while another is attached ends the first one's session")           \
    X(SIGTERM_IGNORED, "sigterm-ignored", "Backend Program Conventions",                       \
      "SIGTERM is ignored")

enum srv_fault_id {
#define SRV_FAULT_ENUM(id, name, section, what) FAULT_##id,
    SRV_FAULTS(SRV_FAULT_ENUM)
#undef SRV_FAULT_ENUM
    SRV_FAULT_COUNT
};

/* the set of faults switched on: bit i is fault i */
typedef uint64_t srv_fault_set;
_Static_assert(SRV_FAULT_COUNT <= 64, "srv_fault_set holds 64 faults");

struct srv_fault_info {
    const char *name;      /* what --fault takes */
    const char *section;   /* the spec section whose rule it breaks */
    const char *what;
};

extern const struct srv_fault_info srv_fault_table[SRV_FAULT_COUNT];

/* the fault's id, or -1 for a name not in the table */
int srv_fault_lookup(const char *name);
/* one line per fault: name, section, what it does */
void srv_fault_print(FILE *f);

static inline bool srv_fault_in(srv_fault_set set, enum srv_fault_id f)
{
    return (set >> f) & 1;
}

#endif
