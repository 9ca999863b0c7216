/* vfu-spec: the vfio-user description as the tables hold it, and a checker
 * for captured messages.
 *   list [CMD]      commands, their layouts and rules
 *   structs         every structure with its size and fields
 *   decode ...      annotated view and verdict of messages
 * Exit status: 0 all valid, 1 a violation, 2 a usage or input error. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfu_codec.h"
#include "vfu_dissect.h"
#include "spec_layout.h"
#include "vfu_version.h"

#define EXIT_VIOLATION 1
#define EXIT_USAGE 2
/* stdin is read whole to tell hex text from binary; files are streamed */
#define MAX_STDIN (256u << 20)

static void usage(FILE *f)
{
    fputs("usage: vfu-spec list [CMD]\n"
          "       vfu-spec structs\n"
          "       vfu-spec decode [OPTIONS] HEX...\n"
          "       vfu-spec decode [OPTIONS] -f FILE\n"
          "       vfu-spec decode [OPTIONS] -\n"
          "       vfu-spec --version\n"
          "\n"
          "list     every command (or CMD: a name, with or without VFIO_USER_, or a\n"
          "         number): direction, spec section, request and reply layouts,\n"
          "         argsz, fd and transfer-size rules\n"
          "structs  every structure with its size and fields\n"
          "decode   messages given as hex (whitespace and 0x prefixes allowed), a\n"
          "         binary FILE of concatenated messages (\"-f -\": binary stdin), or\n"
          "         stdin (\"-\": hex text if it reads as hex, else binary); each\n"
          "         message is shown field by field with a verdict\n"
          "\n"
          "decode options:\n"
          "  --fds N           file descriptors that came with each message (0)\n"
          "  --role server|client|any\n"
          "                    the side receiving the messages, for the direction\n"
          "                    check (any)\n"
          "  --max-fds N       fds a message may carry (spec default: max_msg_fds)\n"
          "  --max-xfer N      negotiated max_data_xfer_size (spec default)\n"
          "  --brief           one summary line per message\n"
          "  --full            do not shorten long data, arrays or bitmaps\n"
          "  --docs            end each field's line with what the field is for\n"
          "\n"
          "exit status: 0 every message valid, 1 a violation, 2 usage or input error\n",
          f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("vfu-spec: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    usage(stderr);
    return EXIT_USAGE;
}


static const struct vfu_cmd_desc *find_cmd(const char *arg)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(arg, &end, 0);
    if (*arg && !*end && !errno) return n <= UINT16_MAX ? vfu_cmd((unsigned)n) : NULL;
    char up[64];
    size_t len = strlen(arg);
    if (len >= sizeof up) return NULL;
    for (size_t i = 0; i <= len; i++) up[i] = (char)toupper((unsigned char)arg[i]);
    return vfu_cmd_by_name(up);
}

static int cmd_list(int argc, char **argv)
{
    if (argc > 3) return usage_error("list takes at most one command, got extra '%s'", argv[3]);
    if (argc == 3) {
        const struct vfu_cmd_desc *c = find_cmd(argv[2]);
        if (!c) return usage_error("unknown command '%s'", argv[2]);
        spec_print_cmd(c);
        return 0;
    }
    spec_print_all();
    return 0;
}

static int cmd_structs(int argc, char **argv)
{
    if (argc > 2) return usage_error("structs takes no argument, got '%s'", argv[2]);
    spec_print_structs();
    return 0;
}

/* ------------------------------------------------------------- decode --- */

struct src {
    FILE *f;            /* streamed, or */
    const uint8_t *mem; /* in memory */
    size_t len, pos;
};

static size_t src_read(struct src *s, uint8_t *buf, size_t n)
{
    if (s->f) {
        size_t got = 0;
        while (got < n) {
            size_t k = fread(buf + got, 1, n - got, s->f);
            if (!k) break;
            got += k;
        }
        return got;
    }
    size_t k = s->len - s->pos < n ? s->len - s->pos : n;
    memcpy(buf, s->mem + s->pos, k);
    s->pos += k;
    return k;
}

static void show_token(const char *t, size_t n)
{
    fputs("vfu-spec: '", stderr);
    for (size_t i = 0; i < n && i < 32; i++) fputc(isprint((unsigned char)t[i]) ? t[i] : '?', stderr);
    fputs(n > 32 ? "...'" : "'", stderr);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* appends the bytes of whitespace-separated hex tokens to out (which has
 * room for len / 2 more); false with a message on stderr if not hex */
static bool parse_hex(const char *t, size_t len, uint8_t *out, size_t *outlen)
{
    size_t i = 0;
    while (i < len) {
        if (isspace((unsigned char)t[i])) { i++; continue; }
        size_t start = i;
        while (i < len && !isspace((unsigned char)t[i])) i++;
        size_t p = start;
        if (i - p >= 2 && t[p] == '0' && (t[p + 1] == 'x' || t[p + 1] == 'X')) p += 2;
        if ((i - p) % 2) {
            show_token(t + start, i - start);
            fputs(": odd number of hex digits\n", stderr);
            return false;
        }
        for (; p < i; p += 2) {
            int hi = hexval((unsigned char)t[p]), lo = hexval((unsigned char)t[p + 1]);
            if (hi < 0 || lo < 0) {
                show_token(t + start, i - start);
                fputs(": not hex\n", stderr);
                return false;
            }
            out[(*outlen)++] = (uint8_t)(hi << 4 | lo);
        }
    }
    return true;
}

static bool looks_hex(const uint8_t *p, size_t n)
{
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        if (isxdigit(p[i])) digit = true;
        else if (!isspace(p[i]) && p[i] != 'x' && p[i] != 'X') return false;
    }
    return digit;
}

struct decode_opts {
    struct vfu_dissect_opts d;
    struct vfu_limits lim;
    bool brief;
};

/* one message (or what there is of one); returns true when valid */
static bool show(const struct decode_opts *o, unsigned idx, uint64_t at, const uint8_t *buf, size_t len)
{
    if (o->brief) {
        char line[512];
        bool ok = vfu_summarize(buf, len, &o->d, line, sizeof line, NULL);
        printf("%u @%llu: %s\n", idx, (unsigned long long)at, line);
        return ok;
    }
    printf("== message %u @%llu\n", idx, (unsigned long long)at);
    bool ok = vfu_dissect(stdout, buf, len, &o->d, NULL);
    putchar('\n');
    return ok;
}

/* splits the input by msg_size, as a receiver frames its stream */
static int decode_stream(const struct decode_opts *o, struct src *in)
{
    uint8_t *buf = malloc(VFU_HDR_SIZE);
    size_t cap = VFU_HDR_SIZE;
    if (!buf) { perror("vfu-spec"); return EXIT_USAGE; }
    unsigned idx = 0, bad = 0;
    uint64_t at = 0;
    int rc = 0;
    for (;; idx++) {
        size_t n = src_read(in, buf, VFU_HDR_SIZE);
        if (n == 0) break;
        if (n < VFU_HDR_SIZE) {
            printf("trailing partial message: %zu bytes, less than a header\n", n);
            show(o, idx + 1, at, buf, n);
            bad++, idx++;
            break;
        }
        uint32_t size;
        struct vfu_error err;
        if (!vfu_frame_size(buf, &o->lim, &size, &err)) {
            show(o, idx + 1, at, buf, VFU_HDR_SIZE);
            printf("framing lost at @%llu: msg_size %u cannot be followed; the rest is not examined\n",
                   (unsigned long long)at, size);
            bad++, idx++;
            break;
        }
        if (size > cap) {
            uint8_t *nb = realloc(buf, size);   /* size is within lim.max_msg_size */
            if (!nb) { perror("vfu-spec"); rc = EXIT_USAGE; break; }
            buf = nb;
            cap = size;
        }
        size_t body = src_read(in, buf + VFU_HDR_SIZE, size - VFU_HDR_SIZE);
        if (body < size - VFU_HDR_SIZE) {
            printf("trailing partial message: %zu of msg_size %u bytes\n", VFU_HDR_SIZE + body, size);
            show(o, idx + 1, at, buf, VFU_HDR_SIZE + body);
            bad++, idx++;
            break;
        }
        if (!show(o, idx + 1, at, buf, size)) bad++;
        at += size;
    }
    if (in->f && ferror(in->f)) {
        fprintf(stderr, "vfu-spec: read error: %s\n", strerror(errno));
        rc = EXIT_USAGE;
    }
    free(buf);
    printf("%u message%s, %u with violations\n", idx, idx == 1 ? "" : "s", bad);
    if (rc) return rc;
    return bad ? EXIT_VIOLATION : 0;
}

static bool parse_num(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-') return false;
    *v = strtoull(s, &end, 0);
    return !*end && !errno && *v <= max;
}

static int read_all(FILE *f, uint8_t **out, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    if (!b) return EXIT_USAGE;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_STDIN) { free(b); fprintf(stderr, "vfu-spec: stdin above %u bytes; use -f\n", MAX_STDIN); return EXIT_USAGE; }
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) { free(b); perror("vfu-spec"); return EXIT_USAGE; }
            b = nb;
            cap *= 2;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        if (!k) break;
        n += k;
    }
    if (ferror(f)) { free(b); fprintf(stderr, "vfu-spec: read error: %s\n", strerror(errno)); return EXIT_USAGE; }
    *out = b;
    *len = n;
    return 0;
}

static int cmd_decode(int argc, char **argv)
{
    enum { O_FDS = 256, O_ROLE, O_MAX_FDS, O_MAX_XFER, O_BRIEF, O_FULL, O_DOCS };
    static const struct option longopts[] = {
        {"fds", required_argument, NULL, O_FDS},
        {"role", required_argument, NULL, O_ROLE},
        {"max-fds", required_argument, NULL, O_MAX_FDS},
        {"max-xfer", required_argument, NULL, O_MAX_XFER},
        {"brief", no_argument, NULL, O_BRIEF},
        {"full", no_argument, NULL, O_FULL},
        {"docs", no_argument, NULL, O_DOCS},
        {"file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct decode_opts o = {{0, NULL, VFU_ROLE_ANY, NULL, false, 0, false}, {0, 0, 0}, false};
    vfu_limits_default(&o.lim);
    o.d.lim = &o.lim;
    const char *file = NULL;
    unsigned long long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "f:h", longopts, NULL)) != -1) {
        const char *arg = optarg;
        switch (c) {
        case 'f': file = arg; break;
        case 'h': usage(stdout); return 0;
        case O_FDS:
            if (!parse_num(arg, UINT_MAX, &v)) return usage_error("--fds wants a count, not '%s'", arg);
            o.d.nfds = (unsigned)v;
            break;
        case O_ROLE:
            if (!strcmp(arg, "server")) o.d.receiver = VFU_ROLE_SERVER;
            else if (!strcmp(arg, "client")) o.d.receiver = VFU_ROLE_CLIENT;
            else if (!strcmp(arg, "any")) o.d.receiver = VFU_ROLE_ANY;
            else return usage_error("--role wants server, client or any, not '%s'", arg);
            break;
        case O_MAX_FDS:
            if (!parse_num(arg, VFU_MAX_FDS, &v))
                return usage_error("--max-fds wants a count up to the kernel's 253, not '%s'", arg);
            o.lim.max_fds = (uint32_t)v;
            break;
        case O_MAX_XFER: {
            /* room for the fixed parts stays what the defaults allow */
            struct vfu_limits dl;
            vfu_limits_default(&dl);
            uint64_t slack = dl.max_msg_size - dl.max_data_xfer_size;
            if (!parse_num(arg, UINT32_MAX - slack, &v)) return usage_error("--max-xfer wants a size, not '%s'", arg);
            o.lim.max_data_xfer_size = v;
            o.lim.max_msg_size = (uint32_t)(v + slack);
            break;
        }
        case O_BRIEF: o.brief = true; break;
        case O_FULL: o.d.full = true; break;
        case O_DOCS: o.d.docs = true; break;
        default: {
            const char *bad = optind >= 1 && optind <= argc - 1 ? argv[optind] : "?";
            if (optopt == 'f' || (optopt >= O_FDS && optopt <= O_MAX_XFER)) return usage_error("option '%s' needs a value", bad);
            return usage_error("unknown option '%s'", bad);
        }
        }
    }
    char **pos = argv + 1 + optind;
    int npos = argc - 1 - optind;

    if (file) {
        if (npos) return usage_error("-f takes no hex arguments, got '%s'", pos[0]);
        FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
        if (!f) {
            fprintf(stderr, "vfu-spec: %s: %s\n", file, strerror(errno));
            return EXIT_USAGE;
        }
        struct src in = {f, NULL, 0, 0};
        int rc = decode_stream(&o, &in);
        if (f != stdin) fclose(f);
        return rc;
    }
    if (npos == 0) return usage_error("%s", "decode needs hex, -f FILE or -");

    uint8_t *bytes = NULL;
    size_t n = 0;
    if (npos == 1 && !strcmp(pos[0], "-")) {
        uint8_t *raw;
        size_t rlen;
        int rc = read_all(stdin, &raw, &rlen);
        if (rc) return rc;
        if (looks_hex(raw, rlen)) {
            bytes = malloc(rlen / 2 + 1);
            if (!bytes || !parse_hex((const char *)raw, rlen, bytes, &n)) {
                free(raw);
                free(bytes);
                return EXIT_USAGE;
            }
            free(raw);
        } else {
            bytes = raw;
            n = rlen;
        }
    } else {
        size_t total = 0;
        for (int i = 0; i < npos; i++) {
            if (!strcmp(pos[i], "-")) return usage_error("%s", "'-' (stdin) cannot be mixed with hex arguments");
            total += strlen(pos[i]);
        }
        bytes = malloc(total / 2 + 1);
        if (!bytes) { perror("vfu-spec"); return EXIT_USAGE; }
        for (int i = 0; i < npos; i++)
            if (!parse_hex(pos[i], strlen(pos[i]), bytes, &n)) { free(bytes); return EXIT_USAGE; }
        if (!n) { free(bytes); return usage_error("%s", "no hex digits in the arguments"); }
    }
    struct src in = {NULL, bytes, n, 0};
    int rc = decode_stream(&o, &in);
    free(bytes);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage_error("%s", "a command is needed: list, structs or decode");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        puts("vfu-spec " VFU_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "list")) return cmd_list(argc, argv);
    if (!strcmp(cmd, "structs")) return cmd_structs(argc, argv);
    if (!strcmp(cmd, "decode")) return cmd_decode(argc, argv);
    return usage_error("unknown command '%s'", cmd);
}
