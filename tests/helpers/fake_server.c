/* A stand-in for a vfio-user server under supervision, for tests/test_proc*.
 * It takes its socket like a backend program (--socket-path=PATH, --fd=N,
 * or -s PATH where a command puts {socket}) and then runs the actions given
 * as words, in order, before idling until a signal ends it:
 *
 *   argv            print argc and every argument to stderr
 *   say=TEXT        TEXT and a newline to stderr;  out=TEXT: to stdout
 *   sleep=MS        pause
 *   listen          bind and listen on the path; with --fd, check the fd listens
 *   bind-only       bind the path but never listen
 *   serve           answer clients: a client that writes "hello\n" gets "ok N\n",
 *                   N counting accepted connections; a connected --fd is the client
 *   serve-one       one client only; exit 9 if it leaves without "hello"
 *   segv | abort | exit=N
 *   ignore-term     ignore SIGTERM;  clean-term: on SIGTERM remove the socket, exit 0
 *   flood=N         N bytes of 'a'..'z' repeated to stderr, then "END\n"
 *   open=N          open N more fds on /dev/null
 *   fds             print the open fds to stderr ("fds: 0 1 2")
 *   sigstate        print "sigpipe=ign|dfl term-blocked=0|1"
 *   fork            start a child in our group that prints "grandchild PID" and idles
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *path;
static int sock_fd = -1;

static void die(const char *what)
{
    dprintf(2, "fake-server: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void on_term(int sig)
{
    (void)sig;
    if (path) unlink(path);
    _exit(0);
}

static int is_listening(int fd)
{
    int v = 0;
    socklen_t len = sizeof v;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

static void bind_path(int do_listen)
{
    if (sock_fd >= 0) {
        if (!is_listening(sock_fd)) {
            dprintf(2, "fake-server: fd %d does not listen\n", sock_fd);
            exit(3);
        }
        dprintf(2, "fd %d listening\n", sock_fd);
        return;
    }
    if (!path) {
        dprintf(2, "fake-server: no socket given\n");
        exit(2);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (do_listen && listen(fd, 4) < 0) die("listen");
    sock_fd = fd;
}

/* 1 when the client said hello and got its answer */
static int talk(int c, int n)
{
    char line[16] = {0};
    ssize_t k = read(c, line, sizeof line - 1);
    int ok = k == 6 && memcmp(line, "hello\n", 6) == 0;
    if (ok) dprintf(c, "ok %d\n", n);
    close(c);
    return ok;
}

static void serve(int only_one)
{
    if (sock_fd < 0) bind_path(1);
    if (!is_listening(sock_fd)) {
        talk(sock_fd, 1);
        sock_fd = -1;
        return;
    }
    for (int n = 1;; n++) {
        int c = accept(sock_fd, NULL, NULL);
        if (c < 0) die("accept");
        if (!talk(c, n) && only_one) {
            dprintf(2, "client left before hello\n");
            exit(9);
        }
        if (only_one) return;
    }
}

static void list_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) die("opendir");
    char buf[4096];
    int at = snprintf(buf, sizeof buf, "fds:");
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
        at += snprintf(buf + at, sizeof buf - (size_t)at, " %s", e->d_name);
    }
    closedir(d);
    dprintf(2, "%s\n", buf);
}

static void flood(long n)
{
    char chunk[4096];
    long i = 0;
    while (i < n) {
        size_t k = 0;
        for (; k < sizeof chunk && i < n; k++, i++) chunk[k] = (char)('a' + i % 26);
        for (size_t w = 0; w < k;) {
            ssize_t r = write(2, chunk + w, k - w);
            if (r < 0) die("write");
            w += (size_t)r;
        }
    }
    dprintf(2, "END\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "--socket-path=", 14)) path = a + 14;
        else if (!strncmp(a, "--fd=", 5)) sock_fd = atoi(a + 5);
        else if (!strcmp(a, "-s") && i + 1 < argc) path = argv[++i];
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-s")) {
            i++;
        } else if (!strcmp(a, "argv")) {
            dprintf(2, "argc=%d\n", argc);
            for (int j = 0; j < argc; j++) dprintf(2, "argv[%d]=%s\n", j, argv[j]);
        } else if (!strncmp(a, "say=", 4)) {
            dprintf(2, "%s\n", a + 4);
        } else if (!strncmp(a, "out=", 4)) {
            dprintf(1, "%s\n", a + 4);
        } else if (!strncmp(a, "sleep=", 6)) {
            sleep_ms(atol(a + 6));
        } else if (!strcmp(a, "listen")) {
            bind_path(1);
        } else if (!strcmp(a, "bind-only")) {
            bind_path(0);
        } else if (!strcmp(a, "serve") || !strcmp(a, "serve-one")) {
            serve(!strcmp(a, "serve-one"));
        } else if (!strcmp(a, "segv")) {
            raise(SIGSEGV);
        } else if (!strcmp(a, "abort")) {
            abort();
        } else if (!strncmp(a, "exit=", 5)) {
            exit(atoi(a + 5));
        } else if (!strcmp(a, "ignore-term")) {
            signal(SIGTERM, SIG_IGN);
        } else if (!strcmp(a, "clean-term")) {
            signal(SIGTERM, on_term);
        } else if (!strncmp(a, "flood=", 6)) {
            flood(atol(a + 6));
        } else if (!strncmp(a, "open=", 5)) {
            for (int n = atoi(a + 5); n > 0; n--) {
                if (open("/dev/null", O_RDONLY) < 0) die("open");
            }
        } else if (!strcmp(a, "fds")) {
            list_fds();
        } else if (!strcmp(a, "sigstate")) {
            struct sigaction sa;
            sigset_t mask;
            sigaction(SIGPIPE, NULL, &sa);
            sigprocmask(SIG_SETMASK, NULL, &mask);
            dprintf(2, "sigpipe=%s term-blocked=%d\n", sa.sa_handler == SIG_IGN ? "ign" : "dfl",
                    sigismember(&mask, SIGTERM));
        } else if (!strcmp(a, "fork")) {
            pid_t c = fork();
            if (c < 0) die("fork");
            if (c == 0) {
                dprintf(2, "grandchild %d\n", (int)getpid());
                for (;;) pause();
            }
        }
    }
    for (;;) pause();
}
