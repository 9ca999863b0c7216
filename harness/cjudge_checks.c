/* The client checks: what each one claims and how strongly.  MUST only
 * where the spec puts the obligation on the client (or on every sender, as
 * for the message format); SHOULD where we ask more than its letter, and
 * the rule says so. */
#include "cjudge.h"

#define MUST VFU_LEVEL_MUST
#define SHOULD VFU_LEVEL_SHOULD

const struct cj_check_desc vfh_cj_checks[CJ__COUNT] = {
    [CJ_VERSION_FIRST] = {"client.VERSION.first", "VFIO_USER_VERSION", "VERSION is the first message on a connection",
                          "on a new connection the client's first message is VFIO_USER_VERSION", MUST},
    [CJ_VERSION_ONCE] = {"client.VERSION.once", "VFIO_USER_VERSION", "VERSION is not sent again on a connection",
                         "VERSION opens a connection; the spec describes no second negotiation "
                         "(beyond the spec's letter)", SHOULD},
    [CJ_VERSION_DATA] = {"client.VERSION.data", "VFIO_USER_VERSION", "the version data is a well-formed JSON capability object",
                         "version data, when present, is NUL-terminated UTF-8 JSON whose capabilities have the "
                         "types and ranges the capability table gives", MUST},
    [CJ_HEADER] = {"client.header.format", "Header", "each message header is well formed",
                   "msg_size is the size of the whole message, at least the header, and the type bits "
                   "say command or reply", MUST},
    [CJ_HEADER_ERROR] = {"client.header.error-field", "Header", "a command leaves the Error flag and field clear",
                         "the Error flag and the errno field are meaningful only in a reply and are "
                         "reserved in a command (reserved: we ask that they be zero)", SHOULD},
    [CJ_KNOWN_CMD] = {"client.header.command", "Commands", "only commands the spec lists, in the client-to-server direction",
                      "a client sends the commands defined for it; DMA_READ and DMA_WRITE are the "
                      "server's (an unknown command gets an error: beyond the spec's letter)", SHOULD},
    [CJ_LAYOUT] = {"client.request.layout", "Commands", "each request follows its command's layout",
                   "a request's payload has the fields, sizes, counted data and enumerated values its "
                   "command's table gives", MUST},
    [CJ_FLAGS] = {"client.request.flags", "Commands", "no flag bit the spec does not define",
                  "flags fields carry only the bits their table defines (an undefined bit has no "
                  "meaning the server can act on: beyond the spec's letter)", SHOULD},
    [CJ_MBZ] = {"client.request.must-be-zero", "Commands", "fields the spec says must be zero are zero",
                "where a request's table says a field must be zero (DEVICE_GET_INFO, REGION_INFO flags, "
                "REGION_IO_FDS ...), it is zero", MUST},
    [CJ_ARGSZ] = {"client.request.argsz", "Commands", "argsz keeps its command's rule",
                  "argsz is the structure's size where the spec says so (DMA_MAP: 32) and, where it is "
                  "the room for the reply, at least the reply's fixed part", MUST},
    [CJ_PADDING] = {"client.request.padding", "Commands", "no bytes past the request's structure",
                    "msg_size covers the header and the request's structure; bytes past it belong to no "
                    "field (a padded request is reported and still served: beyond the spec's letter)", SHOULD},
    [CJ_FDS_CMD] = {"client.fds.per-command", "Commands", "each command carries the file descriptors its table allows",
                    "DMA_MAP carries one fd when the window can be mapped and none otherwise; commands "
                    "without fds carry none", MUST},
    [CJ_FDS_MAX] = {"client.fds.max_msg_fds", "VFIO_USER_VERSION", "no message carries more fds than the server's max_msg_fds",
                    "max_msg_fds is the most fds the server receives in one message, 1 when it names "
                    "none", MUST},
    [CJ_XFER_MAX] = {"client.xfer.max_data_xfer_size", "Read and Write Operations", "count within the server's max_data_xfer_size",
                     "the count of a read or write must not exceed the peer's max_data_xfer_size", MUST},
    [CJ_REGION_INDEX] = {"client.REGION.index", "VFIO_USER_DEVICE_GET_REGION_INFO", "region indexes below num_regions",
                         "region accesses and queries name a region the device reported in "
                         "DEVICE_GET_INFO's num_regions (beyond the spec's letter)", SHOULD},
    [CJ_REGION_BOUNDS] = {"client.REGION.bounds", "VFIO_USER_REGION_READ", "accesses within the region's size",
                          "offset and count of a region access stay inside the size REGION_INFO gave "
                          "(beyond the spec's letter)", SHOULD},
    [CJ_REGION_ACCESS] = {"client.REGION.access", "VFIO_USER_DEVICE_GET_REGION_INFO", "reads of readable, writes of writable regions",
                          "a region is read only when REGION_INFO says READ and written only when it says "
                          "WRITE (beyond the spec's letter)", SHOULD},
    [CJ_DMA_MAP_OFFSET] = {"client.DMA_MAP.offset", "VFIO_USER_DMA_MAP", "offset zero for a window without a file descriptor",
                           "offset is the file offset of a mappable window, or zero when there is no fd "
                           "(we ask it be zero)", SHOULD},
    [CJ_DMA_MAP_OVERLAP] = {"client.DMA_MAP.overlap", "VFIO_USER_DMA_MAP", "a new window does not overlap a mapped one",
                            "the server must refuse a map over an existing window with EEXIST; a client "
                            "that relies on that loses the map (beyond the spec's letter)", SHOULD},
    [CJ_DMA_MAP_ALIGN] = {"client.DMA_MAP.pgsize", "VFIO_USER_VERSION", "windows aligned to the negotiated page size",
                          "address and size of a window are multiples of the smallest page size in pgsizes "
                          "(4 KiB when the server names none): beyond the spec's letter", SHOULD},
    [CJ_DMA_MAP_MAX] = {"client.DMA_MAP.max_dma_maps", "VFIO_USER_VERSION", "no more windows at once than max_dma_maps",
                        "max_dma_maps is the most windows that can be valid at once (beyond the spec's "
                        "letter for the client)", SHOULD},
    [CJ_DMA_UNMAP_MATCH] = {"client.DMA_UNMAP.match", "VFIO_USER_DMA_UNMAP", "an unmap names exactly a mapped window",
                            "address and size of an unmap must match exactly a previous mapping", MUST},
    [CJ_SET_IRQS_RANGE] = {"client.SET_IRQS.range", "VFIO_USER_DEVICE_SET_IRQS", "SET_IRQS within the IRQ index's count",
                           "the client must know the device's IRQ indexes before SET_IRQS: index below "
                           "num_irqs and start + count within the index's count", MUST},
    [CJ_SET_IRQS_ASKED] = {"client.SET_IRQS.asked", "VFIO_USER_DEVICE_SET_IRQS", "IRQ info asked before SET_IRQS on an index",
                           "the client learns an index's capabilities before it sets it; asking "
                           "DEVICE_GET_IRQ_INFO is one way; a client may know it otherwise (PCI config "
                           "space), so this is a note, not a failure", VFU_LEVEL_INFO},
    [CJ_WRITE_MULTI_OFFERED] = {"client.caps.write_multiple", "VFIO_USER_REGION_WRITE_MULTI", "WRITE_MULTI only when offered",
                                "REGION_WRITE_MULTI is supported when write_multiple is true in the server's "
                                "VERSION reply (sent without: beyond the spec's letter)", SHOULD},
    [CJ_MIGRATION_OFFERED] = {"client.caps.migration", "Migration", "migration data commands only when offered",
                              "MIG_DATA_READ / MIG_DATA_WRITE only when the server's VERSION reply has the "
                              "migration capability (beyond the spec's letter)", SHOULD},
    [CJ_REPLY_ANSWERED] = {"client.reply.answered", "Header", "every DMA_READ / DMA_WRITE of the server is answered",
                           "each command message must be replied to unless it sets No_reply", MUST},
    [CJ_REPLY_ID] = {"client.reply.msg_id", "Header", "a reply echoes the msg_id of a request it answers",
                     "the message ID of a command is echoed in its reply", MUST},
    [CJ_REPLY_CMD] = {"client.reply.command", "Header", "a reply carries its request's command",
                      "the command field is also set in the reply header", MUST},
    [CJ_REPLY_LAYOUT] = {"client.reply.layout", "VFIO_USER_DMA_READ", "replies follow the reply layout",
                         "a DMA_READ / DMA_WRITE reply has its table's layout; an error reply must only "
                         "include the header", MUST},
    [CJ_REPLY_ECHO] = {"client.reply.echo", "VFIO_USER_DMA_READ", "a reply's address and count are the request's",
                       "a DMA_READ / DMA_WRITE reply names the address accessed and the count transferred: "
                       "we ask that they be the request's (a short transfer is not described)", SHOULD},
    [CJ_REPLY_TIMELY] = {"client.reply.timely", "Command Concurrency", "our DMA requests answered while the client waits for its own reply",
                         "server messages may come between a client's request and its reply; a client that "
                         "answers them only after its own reply came leaves a server that needs the data to "
                         "answer waiting (answered later than the timeout: beyond the spec's letter)", SHOULD},
};
