/* ctl_sdnotify: telling systemd how the service is doing (sd_notify(3)).
 *
 * When the controller runs under a Type=notify unit, systemd sets
 * NOTIFY_SOCKET to a datagram socket (a path, or an abstract name starting
 * with '@'). The controller sends READY=1 once the first children serve,
 * RELOADING=1 when a reload starts and READY=1 when it ends (completed or
 * abandoned), STOPPING=1 when it stops, and STATUS= lines for
 * `systemctl status`. Without NOTIFY_SOCKET every call does nothing.
 * Controller thread only. */
#ifndef CTL_SDNOTIFY_H
#define CTL_SDNOTIFY_H

/* Reads NOTIFY_SOCKET and removes it from the environment, so children and
 * the app never talk to systemd in the controller's name. Call once, early. */
void ctl_sdnotify_init(void);

/* Sends one notification: newline-separated "NAME=value" assignments,
 * formatted like printf. Failures are ignored (systemd may be gone). */
void ctl_sdnotify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
