/* adm_top: see adm_top.h. */
#include "adm_top.h"

#include "adm_client.h"
#include "adm_spark.h"
#include "adm_status_table.h"
#include "cmn_admin.h"
#include "cmn_statusfmt.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define CELL CMN_STATUSFMT_CELL
#define TREND_BARS 60 /* the newest points of a trend that fit a line */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- one frame ------------------------------------------------------------ */

static const char *cell_ms(json_t *obj, const char *key, char buf[CELL])
{
    double seconds;
    if (!cmn_statusfmt_get_num(obj, key, &seconds))
        return "-";
    snprintf(buf, CELL, seconds < 0.01 ? "%.2f ms" : "%.1f ms", seconds * 1000.0);
    return buf;
}

static void print_summary(FILE *out, json_t *doc, bool utf8)
{
    char a[CELL], b[CELL], c[CELL], d[CELL], e[CELL];
    char spark[TREND_BARS * 3 + 1];
    fprintf(out, "spawning   pid %s, up %s, generation %s, %s of %s children active\n",
            cmn_statusfmt_cell_int(doc, "pid", a), cmn_statusfmt_cell_duration(doc, "uptime", b),
            cmn_statusfmt_cell_int(doc, "generation", c),
            cmn_statusfmt_cell_count(doc, "active_children_count", d),
            cmn_statusfmt_cell_count(doc, "configured_children_count", e));
    fprintf(out, "requests   %s total, %s/s, %s in flight, %s 5xx\n",
            cmn_statusfmt_cell_count(doc, "requests", a),
            cmn_statusfmt_cell_rate(doc, "requests_per_second", b),
            cmn_statusfmt_cell_count(doc, "concurrent_requests", c),
            cmn_statusfmt_cell_count(doc, "responses_5xx", d));
    json_t *history = json_object_get(doc, "history");
    adm_spark(json_object_get(history, "requests_per_second"), TREND_BARS, utf8, spark,
              sizeof spark);
    fprintf(out, "rate       %s\n", *spark ? spark : "(collecting data)");
    json_t *latency = json_object_get(doc, "latency");
    fprintf(out, "latency    p50 %s, p90 %s, p99 %s\n", cell_ms(latency, "p50", a),
            cell_ms(latency, "p90", b), cell_ms(latency, "p99", c));
    json_t *threads = json_object_get(doc, "threads");
    long long busy, configured;
    if (cmn_statusfmt_get_int(threads, "busy", &busy) &&
        cmn_statusfmt_get_int(threads, "configured", &configured) && configured > 0)
        fprintf(out, "threads    %lld of %lld busy (%lld%%)\n", busy, configured,
                busy >= configured ? 100 : 100 * busy / configured);
    else
        fputs("threads    -\n", out);
}

/* One line per child: its memory trend and its current size. */
static void print_memory(FILE *out, json_t *doc, bool utf8)
{
    json_t *children = json_object_get(doc, "children");
    const char *key;
    json_t *child;
    if (!json_is_object(children) || json_object_size(children) == 0)
        return;
    fputs("\nmemory trend (last 10 minutes)\n", out);
    json_object_foreach(children, key, child) {
        char spark[TREND_BARS * 3 + 1], mib[CELL], pid[CELL];
        adm_spark(json_object_get(child, "memory_trend"), TREND_BARS, utf8, spark, sizeof spark);
        fprintf(out, "  %7s  %8s MiB  %s\n", cmn_statusfmt_cell_int(child, "pid", pid),
                cmn_statusfmt_cell_mib(child, "rss_bytes", mib), spark);
    }
}

void adm_top_frame(FILE *out, json_t *doc, const char *error, bool utf8)
{
    char when[32] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(when, sizeof when, "%H:%M:%S", &tm);
    fprintf(out, "spawnctl top - %s - q quits\n\n", when);
    if (error) {
        fprintf(out, "the controller does not answer: %s\n", error);
        return;
    }
    print_summary(out, doc, utf8);
    adm_status_print_children(out, doc);
    print_memory(out, doc, utf8);
}

/* ---- the terminal ----------------------------------------------------------- */

typedef struct {
    bool tty;            /* stdout is a terminal: redraw in place */
    bool raw;            /* stdin was switched to raw mode (and must be put back) */
    struct termios saved;
} screen_t;

static void screen_open(screen_t *s)
{
    s->tty = isatty(STDOUT_FILENO);
    s->raw = false;
    if (!s->tty)
        return;
    fputs("\033[?25l", stdout); /* hide the cursor */
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->saved) == 0) {
        struct termios raw = s->saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        s->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
}

static void screen_close(screen_t *s)
{
    if (s->raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &s->saved);
    if (s->tty)
        fputs("\033[?25h", stdout);
    fflush(stdout);
}

/* Shows a frame: in place on a terminal, appended otherwise. */
static void screen_show(screen_t *s, const char *frame, size_t len, bool first)
{
    if (s->tty)
        fputs("\033[H\033[2J", stdout);
    else if (!first)
        fputc('\n', stdout);
    fwrite(frame, 1, len, stdout);
    fflush(stdout);
}

/* Waits up to `seconds`; returns true when the user asked to quit. */
static bool screen_wait(screen_t *s, double seconds)
{
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    int ms = (int)(seconds * 1000);
    if (!s->raw) {
        struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
        nanosleep(&ts, NULL); /* a signal cuts it short: stop_requested tells */
        return stop_requested;
    }
    if (poll(&pfd, 1, ms) > 0) {
        char key;
        if (read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q'))
            return true;
    }
    return stop_requested;
}

/* ---- the loop ------------------------------------------------------------------ */

/* The status document, or NULL with err filled. */
static json_t *fetch_status(const char *socket_path, char *err, size_t errlen)
{
    json_t *req = json_pack("{s:i, s:s}", "version", CMN_ADMIN_PROTOCOL_VERSION, "command",
                            "status");
    json_t *reply = adm_request(socket_path, req, err, errlen);
    json_decref(req);
    if (!reply)
        return NULL;
    json_t *doc = json_object_get(reply, "status");
    if (!json_is_true(json_object_get(reply, "ok")) || !json_is_object(doc)) {
        snprintf(err, errlen, "no status document in the reply");
        json_decref(reply);
        return NULL;
    }
    json_incref(doc);
    json_decref(reply);
    return doc;
}

static bool terminal_takes_utf8(void)
{
    setlocale(LC_CTYPE, "");
    const char *codeset = nl_langinfo(CODESET);
    return codeset && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
}

/* Renders a frame into memory, so the screen is cleared and drawn at once. */
static void draw(screen_t *screen, json_t *doc, const char *error, bool utf8, bool first)
{
    char *frame = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&frame, &len);
    if (!mem)
        return;
    adm_top_frame(mem, doc, error, utf8);
    if (fclose(mem) == 0)
        screen_show(screen, frame, len, first);
    free(frame);
}

int adm_top_run(const char *socket_path, double interval, int count)
{
    char err[600];
    json_t *doc = fetch_status(socket_path, err, sizeof err);
    if (!doc) {
        fprintf(stderr, "spawnctl: %s\n", err);
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool utf8 = terminal_takes_utf8();
    screen_t screen;
    screen_open(&screen);
    for (int frame = 0; !stop_requested; frame++) {
        draw(&screen, doc, doc ? NULL : err, utf8, frame == 0);
        json_decref(doc);
        doc = NULL;
        if ((count > 0 && frame + 1 >= count) || screen_wait(&screen, interval))
            break;
        doc = fetch_status(socket_path, err, sizeof err);
    }
    json_decref(doc);
    screen_close(&screen);
    return 0;
}
