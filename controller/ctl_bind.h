/* ctl_bind: what a -b/--bind address means.
 *
 * Parses the forms users write: HOST:PORT, [IPV6]:PORT, :PORT (every IPv4
 * address), unix:PATH, fd://N (an inherited listening socket). A TCP
 * address may carry a scheme: https://HOST:PORT serves TLS there,
 * http://HOST:PORT plain HTTP even when --certfile is given (without a
 * scheme, --certfile decides: see ctl_options.h). Pure text work: nothing
 * is bound here (ctl_listen.c does that). */
#ifndef CTL_BIND_H
#define CTL_BIND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

typedef enum {
    CTL_BIND_TCP,  /* host:port */
    CTL_BIND_UNIX, /* a UNIX stream socket at path */
    CTL_BIND_FD,   /* an already open listening socket */
} ctl_bind_kind_t;

typedef struct {
    ctl_bind_kind_t kind;
    char host[256]; /* TCP: without brackets; "0.0.0.0" for ":PORT" */
    int port;       /* TCP: 0..65535 */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* UNIX */
    int fd;         /* FD */
    bool tls;       /* TCP: serve TLS (https://, or --certfile without a scheme) */
    bool scheme_given; /* TCP: written as http:// or https:// */
} ctl_bind_t;

/* Parses spec into *out. Returns 0, or -EINVAL with a sentence in err
 * ("'x' is not HOST:PORT, [IPV6]:PORT, https://HOST:PORT, unix:PATH or fd://N"). */
int ctl_bind_parse(const char *spec, ctl_bind_t *out, char *err, size_t errlen);

/* Formats b for people and status documents: "http://127.0.0.1:8080",
 * "https://[::1]:8443", "unix:/run/app.sock", "fd://3". */
void ctl_bind_describe(const ctl_bind_t *b, char *buf, size_t len);

#endif
