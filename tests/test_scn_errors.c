/* Every error the scenario loader reports, with its file:line and words:
 * each case is a small file that is wrong in one way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "scn.h"

/* a scenario around some steps: the steps start on line 3 */
#define S(steps) "scenario A.b\n  section S\n" steps "end\n"

struct ecase {
    const char *text;
    const char *want;      /* the error, from "t.scn:" on (a prefix of it) */
};

static const struct ecase cases[] = {
    /* lines and words */
    {S("  send DEVICE_GET_INFO data='x\n  expect ok\n"), "t.scn:3: ' without its closing '"},
    {S("  send DEVICE_GET_INFO \"x\n  expect ok\n"), "t.scn:3: \" without its closing \""},
    {"scenario A\0b\n", "t.scn:1: NUL byte in the line"},
    /* structure */
    {"send DEVICE_GET_INFO\n", "t.scn:1: 'send' outside a scenario (scenario ID ... end)"},
    {"scenario A\n  section S\nscenario B\nend\n", "t.scn:3: scenario A (line 1) has no end before the next scenario"},
    {"scenario A\n  section S\n", "t.scn:1: scenario A has no end"},
    {"scenario\nend\n", "t.scn:1: scenario ID"},
    {"scenario a/b\nend\n", "t.scn:1: bad scenario id 'a/b' (letters, digits and ._-+: only)"},
    {S("") S(""), "t.scn:4: scenario A.b is defined already at t.scn:1"},
    {S("  end now\n"), "t.scn:3: end takes nothing more"},
    {"scenario A.b\nend\n", "t.scn:2: scenario A.b: no section line, and none follows from its id or sends"},
    {S("  send DEVICE_GET_INFO\n"), "t.scn:4: scenario A.b ends with the send at line 3 still waiting for its expect"},
    {S("  bogus\n"), "t.scn:3: unknown step 'bogus'"},
    /* header lines */
    {S("  sleep 1\n  title x\n"), "t.scn:4: title must come before the steps"},
    {S("  section T\n"), "t.scn:3: a second section line"},
    {S("  title\n"), "t.scn:3: title: text expected"},
    {S("  rule\n"), "t.scn:3: rule: text expected"},
    {S("  rule a\n  rule b\n"), "t.scn:4: a second rule line"},
    {S("  sleep 1\n  rule x\n"), "t.scn:4: rule must come before the steps"},
    {S("  level MUST\n  level INFO\n"), "t.scn:4: a second level line"},
    {S("  level\n"), "t.scn:3: level: MUST, SHOULD or INFO"},
    {S("  level MAY\n"), "t.scn:3: level: MUST, SHOULD or INFO, not 'MAY'"},
    {S("  requires\n"), "t.scn:3: requires: what?"},
    {S("  requires wings\n"), "t.scn:3: requires: unknown 'wings' (known: migration"},
    {S("  requires irq\n"), "t.scn:3: requires irq: which index?"},
    {S("  requires region $num_regions\n"), "t.scn:3: requires region: the index must be a constant"},
    {S("  requires device 0x1234\n"), "t.scn:3: requires device: VENDOR:DEVICE, two 16-bit numbers (0x1234:0x11f0)"},
    {S("  requires device 0x1234:0x10000\n"), "t.scn:3: requires device: VENDOR:DEVICE, two 16-bit numbers (0x1234:0x11f0)"},
    {S("  requires device\n"), "t.scn:3: requires device: VENDOR:DEVICE, two 16-bit numbers (0x1234:0x11f0)"},
    {S("  requires irq MSIZ\n"), "t.scn:3: irq: unknown name 'MSIZ' (known: INTX MSI MSIX ERR REQ)"},
    {S("  requires max_dma_maps\n"), "t.scn:3: requires max_dma_maps: how many?"},
    {S("  requires max_dma_maps $server.max_dma_maps\n"), "t.scn:3: requires max_dma_maps: the number must be a constant"},
    {S("  requires max_dma_maps BAR0\n"), "t.scn:3: max_dma_maps: 'BAR0' is not a number or $variable"},
    {S("  negotiate\n"), "t.scn:3: negotiate: default, none, or options"},
    {S("  negotiate default\n  negotiate none\n"), "t.scn:4: a second negotiate line"},
    {S("  negotiate major=70000\n"), "t.scn:3: negotiate: major=70000: 0 to 65535"},
    {S("  negotiate caps.wings=1\n"), "t.scn:3: negotiate: unknown capability 'wings'"},
    {S("  negotiate caps.max_msg_fds=many\n"), "t.scn:3: negotiate: caps.max_msg_fds=many: a number, true or false"},
    {S("  negotiate fast\n"), "t.scn:3: negotiate: unknown option 'fast'"},
    {S("  negotiate nojson json={}\n"), "t.scn:3: negotiate: nojson sends no data: drop the other data options"},
    {S("  negotiate json={} twin\n"), "t.scn:3: negotiate: json= replaces the capabilities: drop caps.*"},
    /* send */
    {S("  send\n"), "t.scn:3: send: which command?"},
    {S("  send DMA_MAPP\n  expect ok\n"), "t.scn:3: unknown command 'DMA_MAPP'"},
    {S("  send DMA_MAP adress=1\n  expect ok\n"), "t.scn:3: DMA_MAP request has no field 'adress'"},
    {S("  send DMA_MAP flags=READ|WRIT\n  expect ok\n"), "t.scn:3: flags: unknown name 'WRIT' (known: READ WRITE)"},
    {S("  send DMA_MAP flags=READ||WRITE\n  expect ok\n"), "t.scn:3: flags: empty term in 'READ||WRITE'"},
    {S("  send DMA_MAP size=\n  expect ok\n"), "t.scn:3: size: missing value"},
    {S("  send DMA_MAP size=0x1g\n  expect ok\n"), "t.scn:3: size: '0x1g' is not a number or $variable"},
    {S("  send DMA_MAP size=99999999999999999999\n  expect ok\n"), "t.scn:3: size: '99999999999999999999' is not a number"},
    {S("  send DMA_MAP size=$nosuch\n  expect ok\n"), "t.scn:3: size: unknown variable $nosuch"},
    {S("  send DMA_MAP size=$region.1.size*2\n  expect ok\n"), "t.scn:3: size: bad variable term '$region.1.size*2'"},
    {S("  send DMA_MAP size=$\n  expect ok\n"), "t.scn:3: size: bad variable '$'"},
    {S("  send DMA_MAP size=$num_irqs|$num_irqs|$num_irqs|$num_irqs|$num_irqs\n  expect ok\n"),
     "t.scn:3: size: more than 4 variables in one value"},
    {S("  send DEVICE_FEATURE flags=FEATURE\n  expect ok\n"), "t.scn:3: flags: FEATURE is a field of device_feature_flags: write FEATURE=VALUE"},
    {S("  send DEVICE_FEATURE flags=FEATURE=WINGS\n  expect ok\n"), "t.scn:3: flags: FEATURE: unknown value 'WINGS' (known: MIGRATION"},
    {S("  send DEVICE_FEATURE flags=FEATURE=0x10000\n  expect ok\n"), "t.scn:3: flags: FEATURE: 0x10000 does not fit the field"},
    {S("  send DEVICE_FEATURE page_size=1\n  expect ok\n"),
     "t.scn:3: page_size is in arms dma_logging_control and dma_logging_report_req"},
    {S("  send REGION_WRITE_MULTI +wrs data=0102030405060708aa\n  expect ok\n"), "t.scn:3: data: more bytes than the field holds"},
    {S("  send REGION_WRITE_MULTI wrs=1\n  expect ok\n"), "t.scn:3: wrs: an array or capability chain: add elements with +wrs"},
    {S("  send REGION_WRITE_MULTI +wings\n  expect ok\n"), "t.scn:3: +wings: REGION_WRITE_MULTI request has no such array or variant arm"},
    {S("  send DEVICE_GET_INFO @poke=3\n  expect ok\n"), "t.scn:3: @poke=OFFSET:BYTES expected, got '3'"},
    {S("  send DEVICE_GET_INFO @bogus=3\n  expect ok\n"), "t.scn:3: unknown header item @bogus (known:"},
    {S("  send DEVICE_SET_IRQS fd=eventfd:9x\n  expect ok\n"), "t.scn:3: fd=eventfd:NAME: bad name '9x'"},
    {S("  send DMA_MAP fd=map:-\n  expect ok\n"), "t.scn:3: fd=map:NAME: bad name '-'"},
    {S("  send DMA_MAP fd=pipe\n  expect ok\n"), "t.scn:3: fd=pipe: expected memfd[:SIZE], eventfd[:NAME], devnull or map:NAME"},
    {S("  send DMA_MAP fd=map:m\n  expect ok\n"), "t.scn:3: fd=map:m: no such mapping"},
    {S("  send 99 +x\n  expect ok\n"), "t.scn:3: +x: unknown command takes no structures"},
    {S("  send 99 size=1\n  expect ok\n"), "t.scn:3: size: unknown command has no fields"},
    {S("  send DMA_MAP oops\n  expect ok\n"), "t.scn:3: 'oops': expected FIELD=VALUE, +NAME, fd=..., noreply or @ITEM=VALUE"},
    {S("  send DMA_MAP fds=254\n  expect ok\n"), "t.scn:3: fds=254: at most 253"},
    {S("  send DMA_MAP fds=200 fds=60\n  expect ok\n"), "t.scn:3: more than 253 fds in one message"},
    {S("  send REGION_WRITE data=0g\n  expect ok\n"), "t.scn:3: '0g': not hex"},
    {S("  send REGION_WRITE data=012\n  expect ok\n"), "t.scn:3: '012': odd number of hex digits"},
    {S("  send REGION_WRITE data=zero:99999999999\n  expect ok\n"), "t.scn:3: zero:N needs N from 0 to 16777216"},
    {S("  send REGION_WRITE data=$num_irqs+1\n  expect ok\n"), "t.scn:3: bytes of a variable take no +/-: '$num_irqs+1'"},
    {S("  send DEVICE_SET_IRQS index=0 +data\n  expect ok\n"), "t.scn:3: +data: DEVICE_SET_IRQS request has no such array or variant arm"},
    /* expect */
    {S("  expect ok\n"), "t.scn:3: expect ok: no send is waiting for its answer"},
    {S("  expect\n"), "t.scn:3: expect: what? (ok, error"},
    {S("  expect maybe\n"), "t.scn:3: expect maybe: unknown (ok, error"},
    {S("  send DEVICE_GET_INFO\n  expect reply now\n"), "t.scn:4: expect reply takes nothing more"},
    {S("  send DEVICE_GET_INFO\n  expect close now\n"), "t.scn:4: expect close takes nothing more"},
    {S("  send DEVICE_GET_INFO\n  send DEVICE_GET_INFO\n  expect close\n"), "t.scn:5: expect close: the send at line 4 would never get its expect"},
    {S("  send DEVICE_GET_INFO\n  expect close\n  send DEVICE_GET_INFO\n"), "t.scn:5: send: no session (it was closed; add reconnect)"},
    {S("  send DEVICE_GET_INFO\n  expect none 5 6\n"), "t.scn:4: unexpected '6'"},
    {S("  send DEVICE_GET_INFO\n  expect none 700000\n"), "t.scn:4: at most 600000 ms"},
    {S("  send DEVICE_GET_INFO\n  expect error EINVAL any\n"), "t.scn:4: 'any' stands alone"},
    {S("  send DEVICE_GET_INFO\n  expect error EWINGS\n"), "t.scn:4: unknown errno name 'EWINGS'"},
    {S("  send DEVICE_GET_INFO\n  expect error EWINGS?\n"), "t.scn:4: unknown errno name 'EWINGS'"},
    {S("  send DEVICE_GET_INFO\n  expect error EINVAL? EPERM\n"), "t.scn:4: 'EPERM': mark every errno of one expect with ? (preferred) or none (required)"},
    {S("  send DEVICE_GET_INFO\n  expect error EINVAL EPERM?\n"), "t.scn:4: 'EPERM?': mark every errno"},
    {S("  send DEVICE_GET_INFO\n  expect error ?\n"), "t.scn:4: unknown errno name '?'"},
    {S("  send DEVICE_GET_INFO\n  expect error 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"), "t.scn:4: more than 16 errnos"},
    {S("  expect interrupt x\n"), "t.scn:3: no eventfd named 'x' (made by irq or fd=eventfd:NAME)"},
    {S("  expect interrupt\n"), "t.scn:3: expect interrupt NAME [MS]"},
    {S("  expect memory 0x1000\n"), "t.scn:3: expect memory ADDR BYTES"},
    {S("  expect served dma\n"), "t.scn:3: expect served dma-read|dma-write [MIN]"},
    {S("  expect violation\n"), "t.scn:3: expect violation KIND"},
    {S("  expect violation WINGS\n"), "t.scn:3: unknown violation 'WINGS' (known: DECODE"},
    {S("  send DEVICE_GET_INFO\n  expect ok wings=1\n"), "t.scn:4: DEVICE_GET_INFO reply has no field 'wings'"},
    {S("  send DMA_MAP\n  expect ok argsz=1\n"), "t.scn:4: DMA_MAP reply has no fields (only fds can be checked)"},
    {S("  send DEVICE_GET_INFO\n  expect ok len(flags)=1\n"), "t.scn:4: len(flags): not data, text or an array"},
    {S("  send DEVICE_GET_INFO\n  expect ok len(wings)=1\n"), "t.scn:4: DEVICE_GET_INFO reply has no field 'wings'"},
    {S("  send DEVICE_GET_REGION_INFO\n  expect ok areas[0]=1\n"), "t.scn:4: 'areas[0]': write ARRAY[INDEX].FIELD"},
    {S("  send DEVICE_GET_REGION_INFO\n  expect ok areas[x].size=1\n"), "t.scn:4: 'areas[x].size': bad index"},
    {S("  send DEVICE_GET_REGION_INFO\n  expect ok wings[0].size=1\n"), "t.scn:4: DEVICE_GET_REGION_INFO reply has no array 'wings'"},
    {S("  send DEVICE_GET_REGION_INFO\n  expect ok areas[0].wings=1\n"), "t.scn:4: areas elements have no field 'wings'"},
    {S("  send REGION_WRITE_MULTI\n  expect ok wr_cnt=1\n  send DEVICE_GET_REGION_IO_FDS\n  expect ok sub_regions=1\n"),
     "t.scn:6: sub_regions: an array or chain: check len(sub_regions) or sub_regions[INDEX].FIELD"},
    {S("  send DEVICE_GET_INFO\n  expect ok flags\n"), "t.scn:4: 'flags': expected FIELD=VALUE (or != < <= > >= & !&) or save VAR=FIELD"},
    {S("  send DEVICE_GET_INFO\n  expect ok flags=RESET|WINGS\n"), "t.scn:4: flags: unknown name 'WINGS' (known: RESET PCI)"},
    {S("  send REGION_READ\n  expect ok data>00\n"), "t.scn:4: data: bytes compare with = or != only"},
    {S("  send DEVICE_GET_INFO\n  expect ok save\n"), "t.scn:4: save: expected VAR=FIELD"},
    {S("  send DEVICE_GET_INFO\n  expect ok save x\n"), "t.scn:4: save: expected VAR=FIELD, got 'x'"},
    {S("  send DEVICE_GET_INFO\n  expect ok save 1x=flags\n"), "t.scn:4: save: bad variable name '1x'"},
    /* other steps */
    {S("  unmap\n"), "t.scn:3: unmap NAME"},
    {S("  unmap a\n"), "t.scn:3: unmap: no mapping named 'a'"},
    {S("  map a 0x1000\n"), "t.scn:3: map NAME ADDR SIZE memfd|message [FLAGS]"},
    {S("  map a.b 0 0x1000 memfd\n"), "t.scn:3: map: bad name 'a.b'"},
    {S("  map a 0 0x1000 memfd\n  map a 0x2000 0x1000 memfd\n"), "t.scn:4: map: 'a' is mapped already"},
    {S("  map a 0 0x1000 shm\n"), "t.scn:3: map: memfd or message, not 'shm'"},
    {S("  map a 0 0x1000 memfd EXEC\n"), "t.scn:3: flags: unknown name 'EXEC' (known: READ WRITE)"},
    {S("  read BAR0 0\n"), "t.scn:3: read REGION OFFSET COUNT [as VAR]"},
    {S("  read BAR0 0 4 into x\n"), "t.scn:3: read REGION OFFSET COUNT [as VAR]"},
    {S("  read BAR0 0 4 as num_irqs\n"), "t.scn:3: $num_irqs is provided by the probe; choose another name"},
    {S("  read BAR0 0 4 as 2x\n"), "t.scn:3: bad variable name '2x'"},
    {S("  read BAR9 0 4\n"), "t.scn:3: region: unknown name 'BAR9' (known: BAR0"},
    {S("  write BAR0 0 hex:00 1\n"), "t.scn:3: write REGION OFFSET BYTES: the bytes give the count"},
    {S("  write BAR0 0 1 4 5\n"), "t.scn:3: write REGION OFFSET VALUE [COUNT]"},
    {S("  write BAR0 0 1 9\n"), "t.scn:3: write: a VALUE takes 1 to 8 bytes (use hex: for more)"},
    {S("  write BAR0 0 text:x\n  write BAR0 0 hex:0\n"), "t.scn:4: 'hex:0': odd number of hex digits"},
    {S("  irq a 0\n"), "t.scn:3: irq NAME INDEX SUB"},
    {S("  irq 3 0 0\n"), "t.scn:3: irq: bad name '3'"},
    {S("  poke 0\n"), "t.scn:3: poke ADDR BYTES"},
    {S("  poke 0 0102 03\n"), "t.scn:3: poke ADDR BYTES"},
    {S("  set x\n"), "t.scn:3: set VAR VALUE"},
    {S("  check $num_irqs\n"), "t.scn:3: check A OP B (OP: = != < <= > >= & !&)"},
    {S("  check $num_irqs ~ 1\n"), "t.scn:3: check A OP B (OP: = != < <= > >= & !&)"},
    {S("  check $x=1\n"), "t.scn:3: check: unknown variable $x"},
    {S("  reconnect now\n"), "t.scn:3: reconnect takes nothing more"},
    {S("  send DEVICE_GET_INFO\n  disconnect\n"), "t.scn:4: disconnect: the send at line 3 has no expect yet"},
    {S("  disconnect\n  disconnect\n"), "t.scn:4: disconnect: no session (it was closed; add reconnect)"},
    {S("  sleep\n"), "t.scn:3: sleep MS"},
    {S("  sleep forever\n"), "t.scn:3: milliseconds: 'forever' is not a number or $variable"},
    /* foreach */
    {"endfor\n", "t.scn:1: endfor without foreach"},
    {"foreach X in a b\n", "t.scn:1: foreach without endfor"},
    {"foreach X of a\nendfor\n", "t.scn:1: expected: foreach NAME in VALUE..."},
    {"foreach 1X in a\nendfor\n", "t.scn:1: foreach: bad name '1X'"},
    {"foreach X in a\nforeach X in b\nendfor\nendfor\n", "t.scn:2 (X=a): foreach: X is already bound"},
    {"foreach A in 1\nforeach B in 1\nforeach C in 1\nforeach D in 1\nforeach E in 1\nendfor\nendfor\nendfor\nendfor\nendfor\n",
     "t.scn:5 (A=1 B=1 C=1 D=1): foreach nested deeper than 4"},
    {"foreach X in 5..1\nendfor\n", "t.scn:1: range 5..1: empty, or more than 256 values"},
    {"foreach X in 0..300\nendfor\n", "t.scn:1: range 0..300: empty, or more than 256 values"},
    {"foreach C in commands\nscenario X{C}.x\n  sleep 1\nend\nendfor\n", "t.scn:4 (C=VERSION): scenario XVERSION.x: no section line"},
    {"foreach C in DMA_MAP\nscenario {C}.x\n  send {C} wings=1\n  expect ok\nend\nendfor\n",
     "t.scn:3 (C=DMA_MAP): DMA_MAP request has no field 'wings'"},
};

static void each_error(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        size_t len = strlen(t);
        /* the NUL case: up to the line's end */
        if (strstr(cases[i].want, "NUL byte")) len = sizeof "scenario A\0b\n" - 1;
        struct scn_set s;
        struct scn_errors e = {0};
        vfh_scn_set_init(&s);
        bool ok = vfh_scn_load_text(&s, "t.scn", t, len, &e);
        if (ok || e.n != 1 || strncmp(e.msg[0], cases[i].want, strlen(cases[i].want))) {
            fprintf(stderr, "case %zu:\n%s\nwant: %s\ngot:  %s\n", i, t, cases[i].want, e.n ? e.msg[0] : "(no error)");
            fail();
        }
        /* a file with an error contributes no scenario */
        assert_int_equal(s.n, 0);
        vfh_scn_errors_free(&e);
        vfh_scn_set_free(&s);
    }
}

/* limits are checked before what they bound is allocated */
static void limits(void **state)
{
    (void)state;
    struct scn_set s;
    struct scn_errors e = {0};
    vfh_scn_set_init(&s);
    /* a line one byte too long */
    char *t = malloc(SCN_MAX_LINE + 64);
    assert_non_null(t);
    memset(t, 'x', SCN_MAX_LINE + 1);
    strcpy(t + SCN_MAX_LINE + 1, "\n");
    assert_false(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    assert_string_equal(e.msg[0], "t.scn:1: line longer than 1024 bytes");
    vfh_scn_errors_free(&e);
    /* exactly the limit is fine (a comment) */
    t[0] = '#';
    t[SCN_MAX_LINE] = '\n';
    t[SCN_MAX_LINE + 1] = 0;
    assert_true(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    assert_int_equal(e.n, 0);
    free(t);
    /* a file over the size limit is refused whole */
    size_t big = SCN_MAX_FILE_SIZE + 1;
    t = malloc(big);
    assert_non_null(t);
    memset(t, '\n', big);
    assert_false(vfh_scn_load_text(&s, "big.scn", t, big, &e));
    assert_string_equal(e.msg[0], "big.scn: larger than 1048576 bytes");
    vfh_scn_errors_free(&e);
    free(t);
    /* too many words */
    char line[SCN_MAX_LINE + 1] = "scenario";
    for (int i = 0; i < SCN_MAX_TOKENS; i++) strcat(line, " a");
    strcat(line, "\n");
    assert_false(vfh_scn_load_text(&s, "t.scn", line, strlen(line), &e));
    assert_string_equal(e.msg[0], "t.scn:1: more than 96 words on a line");
    vfh_scn_errors_free(&e);
    /* too many steps */
    size_t cap = 64 + (SCN_MAX_STEPS + 1) * 10;
    t = malloc(cap);
    assert_non_null(t);
    strcpy(t, "scenario A\n  section S\n");
    for (int i = 0; i <= SCN_MAX_STEPS; i++) strcat(t, "  sleep 0\n");
    strcat(t, "end\n");
    assert_false(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    char want[64];
    snprintf(want, sizeof want, "t.scn:%d: more than 256 steps in one scenario", SCN_MAX_STEPS + 3);
    assert_string_equal(e.msg[0], want);
    vfh_scn_errors_free(&e);
    free(t);
    /* too many sends waiting */
    t = malloc(64 + (SCN_MAX_PENDING + 1) * 24);
    assert_non_null(t);
    strcpy(t, "scenario A\n  section S\n");
    for (int i = 0; i <= SCN_MAX_PENDING; i++) strcat(t, "  send DEVICE_GET_INFO\n");
    assert_false(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    snprintf(want, sizeof want, "t.scn:%d: more than 64 sends waiting for their expect", SCN_MAX_PENDING + 3);
    assert_string_equal(e.msg[0], want);
    vfh_scn_errors_free(&e);
    free(t);
    /* more than 256 foreach values */
    t = "foreach X in 0..200 0..54\nendfor\n";
    assert_true(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    t = "foreach X in 0..200 0..55\nendfor\n";
    assert_false(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    assert_string_equal(e.msg[0], "t.scn:1: foreach over more than 256 values");
    vfh_scn_errors_free(&e);
    /* foreach cannot make more lines or text than allowed */
    t = "foreach A in 0..255\nforeach B in 0..255\nforeach C in 0..1\nx {A}{B}{C}\nendfor\nendfor\nendfor\n";
    assert_false(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    assert_string_equal(e.msg[0], "t.scn:4 (A=128 B=0 C=0): more than 65536 lines after foreach expansion");
    vfh_scn_errors_free(&e);
    t = malloc(2 * SCN_MAX_LINE);
    assert_non_null(t);
    snprintf(t, 2 * SCN_MAX_LINE, "foreach A in 0..255\nforeach B in 0..255\nx {A}{B}%01000d\nendfor\nendfor\n", 0);
    assert_false(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    assert_non_null(strstr(e.msg[0], "more than 16 MiB bytes of text after foreach expansion"));
    vfh_scn_errors_free(&e);
    free(t);
    /* what all of it takes in memory is bounded too */
    {
        char wrs[1024] = "";
        for (int i = 0; i < 90; i++) strcat(wrs, " +wrs");
        t = malloc(4 * SCN_MAX_LINE);
        assert_non_null(t);
        snprintf(t, 4 * SCN_MAX_LINE,
                 "foreach A in 0..255\nforeach B in 0..31\nscenario S{A}_{B}\n  section S\n"
                 "  send REGION_WRITE_MULTI%s\n  expect ok\n  send REGION_WRITE_MULTI%s\n  expect ok\n"
                 "end\nendfor\nendfor\n", wrs, wrs);
        assert_false(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
        assert_non_null(strstr(e.msg[0], "out of memory"));
        assert_int_equal(s.n, 0);
        vfh_scn_errors_free(&e);
        free(t);
    }
    /* substitution that makes a line too long */
    t = malloc(2 * SCN_MAX_LINE);
    assert_non_null(t);
    char val[600];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = 0;
    snprintf(t, 2 * SCN_MAX_LINE, "foreach X in %s\n# {X}{X}\nendfor\n", val);
    assert_false(vfh_scn_load_text(&s, "t.scn", t, strlen(t), &e));
    assert_int_equal(strncmp(e.msg[0], "t.scn:2 (X=vvvv", 15), 0);
    assert_non_null(strstr(e.msg[0], "): line longer than 1024 bytes after foreach substitution"));
    vfh_scn_errors_free(&e);
    free(t);
    assert_int_equal(s.n, 0);
    vfh_scn_set_free(&s);
}

/* errors from several files are all collected; good files still load */
static void several_files(void **state)
{
    (void)state;
    struct scn_set s;
    struct scn_errors e = {0};
    vfh_scn_set_init(&s);
    assert_false(vfh_scn_load_text(&s, "a.scn", "bogus\n", 6, &e));
    assert_true(vfh_scn_load_text(&s, "b.scn", S("  sleep 1\n"), strlen(S("  sleep 1\n")), &e));
    const char *c = "scenario C.d\n  section S\n  sleep x\nend\n";
    assert_false(vfh_scn_load_text(&s, "c.scn", c, strlen(c), &e));
    assert_int_equal(e.n, 2);
    assert_string_equal(e.msg[0], "a.scn:1: 'bogus' outside a scenario (scenario ID ... end)");
    assert_string_equal(e.msg[1], "c.scn:3: milliseconds: 'x' is not a number or $variable");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.v[0].file, "b.scn");
    vfh_scn_errors_free(&e);
    /* a path that is not there */
    assert_false(vfh_scn_load_path(&s, "/nonexistent/x.scn", &e));
    assert_string_equal(e.msg[0], "/nonexistent/x.scn: cannot open: No such file or directory");
    vfh_scn_errors_free(&e);
    assert_false(vfh_scn_load_path(&s, "/proc/self", &e));
    assert_string_equal(e.msg[0], "/proc/self: no .scn files");
    vfh_scn_errors_free(&e);
    assert_false(vfh_scn_load_path(&s, "/dev/null", &e));
    assert_string_equal(e.msg[0], "/dev/null: not a regular file");
    vfh_scn_errors_free(&e);
    vfh_scn_set_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_error),
        cmocka_unit_test(limits),
        cmocka_unit_test(several_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
