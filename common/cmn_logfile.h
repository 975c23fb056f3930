/* cmn_logfile: pointing stdout and stderr at log files.
 *
 * Shared by the controller and the children. Everything that logs writes to
 * fds 1 and 2 (cmn_log writes to STDERR_FILENO), so redirecting means
 * replacing what those two fds refer to, in place, with dup2(): no global
 * "log fd" to keep in sync, and a child started later inherits the files.
 * Used at start-up and again on SIGUSR1 / `spawnctl reopen-logs`: logrotate
 * renames the file away, then the process reopens the path and the next
 * line lands in a fresh file. Never needs the GIL. */
#ifndef CMN_LOGFILE_H
#define CMN_LOGFILE_H

/* Points stdout and/or stderr at the given files (either path may be NULL:
 * leave that fd alone). Each file is opened O_WRONLY|O_APPEND|O_CREAT, mode
 * 0644 (less the umask), and installed with dup2, so fds 1 and 2 stay fds 1
 * and 2 and stay inherited across exec. Equal paths share one open file.
 * stdio's buffered stdout/stderr are flushed to the old files first.
 * Returns 0, or a negative errno from open(); on error neither fd was
 * changed (both files are opened before either is switched). */
int cmn_logfile_reopen(const char *stdout_path, const char *stderr_path);

#endif
