/* The trace document's keys and names (schema in trace.h), shared by the
 * recorder and the reader so that the two cannot drift apart. */
#ifndef VFU_TRACE_KEYS_H
#define VFU_TRACE_KEYS_H

#define TK_FORMAT "format"
#define TK_VERSION "version"
#define TK_META "meta"
#define TK_EVENTS "events"
#define TK_TRUNCATED "truncated"

#define TK_TOOL "tool"
#define TK_START "start"
#define TK_CAP "cap"
#define TK_SCENARIO "scenario"
#define TK_SERVER "server"
#define TK_CAPS "caps"

#define TK_T "t"
#define TK_DIR "dir"
#define TK_CHAN "chan"
#define TK_BYTES "bytes"
#define TK_FDS "fds"
#define TK_ERR "err"

#define TK_KIND "kind"
#define TK_SIZE "size"

#define TK_CODE "code"
#define TK_GOT "got"
#define TK_WANT "want"
#define TK_ERRNO "errno"
#define TK_CMD "cmd"

#define TK_EVCOUNT "events"
#define TK_BYTECOUNT "bytes"
#define TK_REASON "reason"

#define TV_TX "tx"
#define TV_RX "rx"

#endif
