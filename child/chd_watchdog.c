/* chd_watchdog: see chd_watchdog.h. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chd_watchdog.h"

#include "chd_accesslog.h"
#include "chd_python.h"
#include "chd_stackdump.h"
#include "cmn_ctlmsg.h"
#include "cmn_log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SLOTS 1100 /* --threads is at most 1024, plus the I/O or hub thread */
#define DUMP_MAX (256 * 1024)
#define STACK_MAX (16 * 1024)
/* How long the 504 may wait for room in the socket (it is small, and nothing
 * else of a response went out: it rarely waits at all); a client that does
 * not read is then just closed. */
#define ANSWER_WAIT_MS 200

typedef enum { SLOT_IDLE, SLOT_RUNNING, SLOT_HANDLING } slot_state_t;

/* One per thread that runs requests. conn and started are written by the
 * thread only while IDLE, read by the watchdog only while HANDLING. */
typedef struct {
    _Atomic slot_state_t state;
    chd_conn_t *conn;
    double started;
    unsigned long ident; /* pthread_self(): the Python thread ident faulthandler prints */
    pid_t tid;           /* what ps, top and gdb call the thread */
} slot_t;

static struct {
    bool on; /* set before any request thread starts */
    double timeout;
    int control_fd;
    int dump_fd; /* faulthandler writes here */
    int signum;
    slot_t slots[MAX_SLOTS];
    atomic_int nslots;
    atomic_bool stopping;
    pthread_t thread;
    /* chd_watchdog_overran's hand-over to the watchdog thread */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    struct {
        chd_conn_t *conn; /* NULL: nothing handed over */
        const char *where, *stack;
        bool acted;
    } handed;
} wd;

static __thread slot_t *my_slot;

static slot_t *slot_of_this_thread(void)
{
    if (my_slot)
        return my_slot;
    int i = atomic_fetch_add(&wd.nslots, 1);
    if (i >= MAX_SLOTS)
        return NULL;
    my_slot = &wd.slots[i];
    my_slot->ident = (unsigned long)pthread_self();
    my_slot->tid = gettid();
    return my_slot;
}

/* Takes the slot back to IDLE from RUNNING, waiting out a HANDLING. */
static void release(slot_t *s)
{
    slot_state_t running = SLOT_RUNNING;
    if (atomic_compare_exchange_strong(&s->state, &running, SLOT_IDLE))
        return;
    struct timespec pause = {0, 1000000};
    while (atomic_load(&s->state) == SLOT_HANDLING)
        nanosleep(&pause, NULL);
    atomic_store(&s->state, SLOT_IDLE);
}

void chd_watchdog_begin(chd_conn_t *conn)
{
    if (!wd.on)
        return;
    slot_t *s = slot_of_this_thread();
    if (!s)
        return;
    release(s); /* a green request may begin while another's greenlet held the slot */
    s->conn = conn;
    s->started = conn->request_started;
    atomic_store(&s->state, SLOT_RUNNING);
}

void chd_watchdog_end(void)
{
    if (wd.on && my_slot)
        release(my_slot);
}

/* --- what happens to a request past --timeout ----------------------------- */

/* Has faulthandler dump every thread into dump_fd (on this thread, which
 * needs no GIL for it) and picks the thread's stack out. Returns the
 * number of frames (0: none found; out says why). */
static int read_stack(unsigned long ident, char *out, size_t cap)
{
    static char dump[DUMP_MAX]; /* the watchdog thread's only */
    int rc = ftruncate(wd.dump_fd, 0) < 0 || lseek(wd.dump_fd, 0, SEEK_SET) < 0 ? errno : 0;
    if (rc == 0)
        rc = pthread_kill(pthread_self(), wd.signum); /* the handler runs here, now */
    if (rc != 0) {
        snprintf(out, cap, "  (no stack: %s)\n", strerror(rc));
        return 0;
    }
    ssize_t len = pread(wd.dump_fd, dump, sizeof dump, 0);
    int n = chd_stackdump_format(dump, len > 0 ? (size_t)len : 0, ident, out, cap);
    if (n == 0)
        snprintf(out, cap, "  (no Python frame on that thread)\n");
    return n;
}

/* The 504, in the access log too; through the connection's transport
 * (TLS, whose state is this thread's once the answer is claimed:
 * chd_conn_write_overruled). */
static void answer_504(chd_conn_t *conn)
{
    static const char body[] = "The request took too long (--timeout).\n";
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 504 Gateway Timeout\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     sizeof body - 1);
    struct iovec iov[2] = {{head, (size_t)n}, {(void *)body, sizeof body - 1}};
    int rc = chd_conn_write_overruled(conn, iov, 2, ANSWER_WAIT_MS);
    if (rc < 0)
        cmn_info("%s:%d: the 504 for %s was not sent whole: %s", conn->peer_addr,
                 conn->peer_port, conn->request_line, strerror(-rc));
    chd_accesslog_overruled(conn, 504, sizeof body - 1, head, (size_t)n);
    chd_stats_response(conn->env->stats, 504, (uint64_t)n + sizeof body - 1);
}

static void tell_controller(const chd_conn_t *conn, double ran)
{
    json_t *msg = json_pack("{s:s, s:s, s:f}", "type", CMN_MSG_TIMEOUT, "request",
                            conn->request_line, "ran", ran);
    if (msg)
        cmn_ctlmsg_send(wd.control_fd, msg, NULL, 0);
    json_decref(msg);
}

/* Acts on conn's overrun (see the header); watchdog thread. Returns false
 * when it was handled already. */
static bool act_on_overrun(chd_conn_t *conn, double ran, const char *where, const char *stack)
{
    chd_answer_t before = atomic_exchange(&conn->answer, CHD_ANSWER_TIMED_OUT);
    if (before == CHD_ANSWER_TIMED_OUT)
        return false; /* handled already */
    char title[300];
    snprintf(title, sizeof title,
             "request %s ran past --timeout %g s %s; its stack (most recent call last)%s:",
             conn->request_line, wd.timeout, where,
             before == CHD_ANSWER_APP ? " (its response had begun: connection closed)" : "");
    cmn_log_block(CMN_LOG_ERROR, title, stack, strlen(stack));
    /* Once the head is out only its own thread writes (a TLS session's
     * state included); before, the claim makes the connection ours. */
    if (before == CHD_ANSWER_OPEN)
        answer_504(conn);
    shutdown(conn->fd, SHUT_RDWR); /* its thread still owns the descriptor */
    tell_controller(conn, ran);
    return true;
}

bool chd_watchdog_is_overdue(const chd_conn_t *conn, double now)
{
    return wd.on && now - conn->request_started > wd.timeout &&
           atomic_load(&((chd_conn_t *)conn)->answer) != CHD_ANSWER_TIMED_OUT;
}

/* Acts on the request slot s runs (HANDLING: it stays alive meanwhile). */
static void overran(slot_t *s, double now)
{
    if (atomic_load(&s->conn->answer) == CHD_ANSWER_TIMED_OUT)
        return;
    static char stack[STACK_MAX]; /* the watchdog thread's only */
    char where[64];
    read_stack(s->ident, stack, sizeof stack);
    snprintf(where, sizeof where, "on thread %d", (int)s->tid);
    act_on_overrun(s->conn, now - s->started, where, stack);
}

bool chd_watchdog_overran(chd_conn_t *conn, const char *where, const char *stack)
{
    if (!wd.on)
        return false;
    pthread_mutex_lock(&wd.lock);
    while (wd.handed.conn) /* one at a time */
        pthread_cond_wait(&wd.done, &wd.lock);
    wd.handed.conn = conn;
    wd.handed.where = where;
    wd.handed.stack = stack;
    pthread_cond_signal(&wd.wake);
    while (wd.handed.conn == conn)
        pthread_cond_wait(&wd.done, &wd.lock);
    bool acted = wd.handed.acted;
    pthread_mutex_unlock(&wd.lock);
    return acted;
}

/* Watchdog thread, lock held: acts on what was handed over. */
static void take_handed(void)
{
    chd_conn_t *conn = wd.handed.conn;
    wd.handed.acted = act_on_overrun(conn, chd_monotonic() - conn->request_started,
                                     wd.handed.where, wd.handed.stack);
    wd.handed.conn = NULL;
    pthread_cond_broadcast(&wd.done);
}

static void look(double now)
{
    int n = atomic_load(&wd.nslots);
    for (int i = 0; i < n && i < MAX_SLOTS; i++) {
        slot_t *s = &wd.slots[i];
        slot_state_t running = SLOT_RUNNING;
        if (atomic_load(&s->state) != SLOT_RUNNING ||
            !atomic_compare_exchange_strong(&s->state, &running, SLOT_HANDLING))
            continue;
        if (now - s->started > wd.timeout)
            overran(s, now);
        atomic_store(&s->state, SLOT_RUNNING);
    }
}

/* now + seconds on the monotonic clock, for pthread_cond_timedwait. */
static struct timespec monotonic_after(double seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long ns = t.tv_nsec + (long long)(seconds * 1e9);
    t.tv_sec += (time_t)(ns / 1000000000);
    t.tv_nsec = (long)(ns % 1000000000);
    return t;
}

static void *watchdog_main(void *arg)
{
    (void)arg;
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, wd.signum);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
    double period = wd.timeout / 4 < 0.25 ? wd.timeout / 4 : 0.25;
    double next_look = chd_monotonic() + period;
    pthread_mutex_lock(&wd.lock);
    while (!atomic_load(&wd.stopping)) {
        if (wd.handed.conn) {
            take_handed();
            continue;
        }
        if (chd_monotonic() >= next_look) {
            pthread_mutex_unlock(&wd.lock);
            look(chd_monotonic());
            pthread_mutex_lock(&wd.lock);
            next_look = chd_monotonic() + period;
            continue;
        }
        struct timespec until = monotonic_after(next_look - chd_monotonic());
        pthread_cond_timedwait(&wd.wake, &wd.lock, &until);
    }
    pthread_mutex_unlock(&wd.lock);
    return NULL;
}

static void init_handover(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&wd.lock, NULL);
    pthread_cond_init(&wd.wake, &attr);
    pthread_cond_init(&wd.done, NULL);
    pthread_condattr_destroy(&attr);
}

/* faulthandler.register(signum, dump_fd, all_threads=True, chain=False).
 * GIL held. */
static int register_faulthandler(void)
{
    PyObject *fh = PyImport_ImportModule("faulthandler");
    PyObject *rv = fh ? PyObject_CallMethod(fh, "register", "iiii", wd.signum, wd.dump_fd, 1, 0)
                      : NULL;
    Py_XDECREF(fh);
    if (!rv)
        return -1;
    Py_DECREF(rv);
    return 0;
}

int chd_watchdog_start(const chd_config_t *cfg, int control_fd)
{
    if (cfg->timeout <= 0)
        return 0;
    wd.timeout = cfg->timeout;
    wd.control_fd = control_fd;
    wd.signum = CHD_WATCHDOG_SIGNAL;
    wd.dump_fd = memfd_create("spawning-stacks", MFD_CLOEXEC);
    if (wd.dump_fd < 0) {
        cmn_error("--timeout: memfd_create: %s", strerror(errno));
        return -1;
    }
    if (register_faulthandler() < 0) {
        chd_python_log_exception("--timeout: cannot register faulthandler");
        close(wd.dump_fd);
        return -1;
    }
    atomic_init(&wd.stopping, false);
    init_handover();
    wd.on = true;
    int rc = pthread_create(&wd.thread, NULL, watchdog_main, NULL);
    if (rc != 0) {
        cmn_error("--timeout: cannot start the watchdog thread: %s", strerror(rc));
        wd.on = false;
        return -1;
    }
    return 0;
}

void chd_watchdog_stop(void)
{
    if (!wd.on)
        return;
    pthread_mutex_lock(&wd.lock);
    atomic_store(&wd.stopping, true);
    pthread_cond_signal(&wd.wake);
    pthread_mutex_unlock(&wd.lock);
    pthread_join(wd.thread, NULL);
    close(wd.dump_fd); /* faulthandler lets go of it at finalization; nothing signals now */
}
