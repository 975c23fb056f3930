/* ctl_watch: noticing that the application's source changed (--reload=dev).
 *
 * One inotify instance on the controller's libev loop. Editors rarely write
 * a file in place: most write a temporary file and rename it over the
 * original, vim may delete and recreate it. A watch on the file's inode
 * would be lost at the first save, so each file's parent DIRECTORY is
 * watched (one kernel watch per directory, however many files it holds) and
 * events are kept only for the names registered in that directory; the
 * lookup is a hash on (directory watch, name), so thousands of files cost
 * one probe per event. A change is: a file closed after writing, created,
 * renamed onto the name or away from it, deleted, or touched (attributes,
 * mtime) -- and the directory itself deleted or moved.
 *
 * Changes come in bursts (a save of many files, a `git checkout`); the
 * callback fires once per burst, `debounce` seconds after its last event.
 * Single-threaded: use from the loop's thread only. */
#ifndef CTL_WATCH_H
#define CTL_WATCH_H

#include <ev.h>
#include <stddef.h>

typedef struct ctl_watch ctl_watch_t;

/* Called once per burst, `debounce` seconds after the burst's last event.
 * `path` (valid during the call only) is one changed file of the burst, as
 * it was given to ctl_watch_add(); when the kernel's event queue overflowed
 * and which files changed is unknown it is "(inotify queue overflow)". The
 * callback may call ctl_watch_add() and ctl_watch_free(). */
typedef void (*ctl_watch_cb)(void *arg, const char *path);

/* Creates a watcher on `loop` (borrowed; must outlive the watcher) with no
 * files yet. Its io watcher is active from here on and so keeps ev_run()
 * going. Returns NULL with a sentence in err when inotify is unavailable
 * (EMFILE: fs.inotify.max_user_instances reached) or memory ran out. */
ctl_watch_t *ctl_watch_new(struct ev_loop *loop, double debounce, ctl_watch_cb on_change,
                           void *arg, char *err, size_t errlen);

/* Starts watching the regular file `path` (copied). Idempotent: the same
 * file under the same directory and name counts once, however it is
 * spelled. Returns 0, or -ENOENT (missing), -EINVAL (not a regular file),
 * -ENOSPC (fs.inotify.max_user_watches reached), -ENOMEM, or another
 * negative errno from stat()/inotify_add_watch(). A symlink is watched
 * under its own name: replacing the link is seen, editing its target in
 * another directory is not. */
int ctl_watch_add(ctl_watch_t *w, const char *path);

/* Number of distinct files being watched. */
int ctl_watch_count(const ctl_watch_t *w);

/* Stops the watchers, closes the inotify fd and frees everything. A pending
 * (debounced) callback is dropped. NULL is fine. */
void ctl_watch_free(ctl_watch_t *w);

#endif
