/* The reference server (servers/srv.h) as a struct fuzz_server: one server
 * for the whole process, srv_reset() before every run.  Its replies go
 * nowhere (the fuzzer looks for crashes, leaks and sanitizer reports, not
 * verdicts); its DMA_READ / DMA_WRITE requests are answered by the input's
 * reply records.  VFU_FUZZ_FAULTS (comma-separated fault names, as
 * vfu-refserver --fault takes) switches seeded faults on, to show that a
 * crash is caught and reproduced.  The server's log lines are muted unless
 * VFU_FUZZ_VERBOSE is set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_refserver.h"
#include "srv.h"
#include "toydev.h"

struct ref {
    struct srv *s;
    struct fuzz_session *fs;
    struct vfu_limits lim;
};

static bool ref_send(void *ctx, const struct vfu_enc *e, struct vfu_error *err)
{
    (void)ctx;
    (void)e;
    (void)err;
    return true;
}

static bool ref_request(void *ctx, const struct vfu_enc *req, struct vfu_msg *reply,
                        struct vfu_error *err)
{
    struct ref *r = ctx;
    const uint8_t *buf;
    size_t len;
    int *fds;
    unsigned nfds;
    if (!fuzz_session_request(r->fs, req->buf, req->len, &buf, &len, &fds, &nfds)) {
        vfu_error_set(err, VFU_E_EOF, -1, -1, 0, 0);
        return false;
    }
    return vfu_decode(reply, buf, len, fds, nfds, &r->lim, VFU_ROLE_SERVER, err);
}

/* the server end of a twin socket: no client reads it here */
static bool ref_twin(void *ctx, int fd)
{
    (void)ctx;
    close(fd);
    return true;
}

static void ref_limits(void *ctx, const struct vfu_limits *rx)
{
    struct ref *r = ctx;
    r->lim = *rx;
    fuzz_session_set_limits(r->fs, rx);
}

static bool faults_from_env(srv_fault_set *set)
{
    const char *env = getenv("VFU_FUZZ_FAULTS");
    if (!env || !*env) return true;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int id = srv_fault_lookup(t);
        if (id < 0) {
            fprintf(stderr, "VFU_FUZZ_FAULTS: unknown fault '%s' (vfu-refserver --fault list)\n", t);
            return false;
        }
        *set |= (srv_fault_set)1 << id;
    }
    return true;
}

static void *ref_create(struct fuzz_session *fs)
{
    static struct ref r;
    static struct srv_peer peer;
    struct srv_opts o;
    srv_opts_default(&o);
    if (!faults_from_env(&o.faults)) return NULL;
    srv_log_mute(!getenv("VFU_FUZZ_VERBOSE"));
    r.fs = fs;
    vfu_limits_default(&r.lim);
    peer = (struct srv_peer){ref_send, ref_request, ref_twin, ref_limits, &r};
    int err = 0;
    /* SIGBUS from a shrunk DMA file becomes -EFAULT, as in vfu-refserver */
    srv_sigbus_guard_install();
    r.s = srv_create(&o, &peer, &err);
    return r.s ? &r : NULL;
}

static void ref_reset(void *h)
{
    struct ref *r = h;
    srv_reset(r->s);
}

static bool ref_input(void *h, const uint8_t *msg, size_t len, int *fds, unsigned nfds)
{
    struct ref *r = h;
    return srv_input(r->s, msg, len, fds, nfds) == SRV_CONTINUE;
}

static void ref_disconnect(void *h)
{
    struct ref *r = h;
    srv_disconnect(r->s);
}

static bool ref_ioevent(void *h)
{
    struct ref *r = h;
    int fd = srv_ioeventfd(r->s);
    if (fd < 0) return true;
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) != (ssize_t)sizeof one) return true;
    return srv_ioevent(r->s) == SRV_CONTINUE;
}

const struct fuzz_server fuzz_refserver = {
    "vfu-refserver", ref_create, ref_reset, ref_input, ref_disconnect, ref_ioevent,
};

void fuzz_refserver_describe(struct vfu_mut *m)
{
    if (!m) return;
    vfu_mut_set_region(m, VFU_PCI_REGION_BAR0, TOYDEV_BAR0_SIZE);
    vfu_mut_set_region(m, VFU_PCI_REGION_BAR2, TOYDEV_BAR2_SIZE);
    vfu_mut_set_region(m, VFU_PCI_REGION_BAR4, TOYDEV_BAR4_SIZE);
    vfu_mut_set_region(m, VFU_PCI_REGION_CONFIG, TOYDEV_CONFIG_SIZE);
    vfu_mut_set_irq(m, VFU_PCI_IRQ_MSIX, TOYDEV_MSIX_VECTORS);
    vfu_mut_set_irq(m, VFU_PCI_IRQ_MSI, 1);
    vfu_mut_set_irq(m, VFU_PCI_IRQ_INTX, 1);
}

/* weak: present when fuzz/mutator_libfuzzer.c is linked in */
struct vfu_mut *vfu_fuzz_mutator(void) __attribute__((weak));

void fuzz_refserver_describe_engine(void)
{
    if (vfu_fuzz_mutator) fuzz_refserver_describe(vfu_fuzz_mutator());
}
