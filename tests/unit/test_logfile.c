/* Unit tests for common/cmn_logfile.h. Each test saves the binary's own
 * stdout/stderr first and puts them back, so the summary line still reaches
 * tests/run-unit.sh. */
#include "cmn_logfile.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static char dir[] = "/tmp/spawning-logfile.XXXXXX";

/* The whole content of a file, or "" when it cannot be read. */
static const char *slurp(const char *path)
{
    static char buf[4096];
    buf[0] = '\0';
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

static void put(int fd, const char *s)
{
    ssize_t n = write(fd, s, strlen(s));
    (void)n;
}

static void restore(int saved, int target)
{
    dup2(saved, target);
    close(saved);
}

TEST(rotation_reopens_the_path)
{
    char path[256], rotated[256];
    snprintf(path, sizeof path, "%s/error.log", dir);
    snprintf(rotated, sizeof rotated, "%s/error.log.1", dir);
    int saved = dup(STDERR_FILENO);

    CHECK_EQ_INT(cmn_logfile_reopen(NULL, path), 0);
    put(STDERR_FILENO, "first\n");
    fprintf(stderr, "buffered?"); /* stderr is unbuffered, but reopen flushes anyway */
    CHECK_EQ_INT(rename(path, rotated), 0);
    put(STDERR_FILENO, "still old\n"); /* fd 2 follows the renamed file */
    CHECK_EQ_INT(cmn_logfile_reopen(NULL, path), 0);
    put(STDERR_FILENO, "second\n");
    int flags = fcntl(STDERR_FILENO, F_GETFD);
    restore(saved, STDERR_FILENO);

    CHECK_EQ_STR(slurp(rotated), "first\nbuffered?still old\n");
    CHECK_EQ_STR(slurp(path), "second\n");
    CHECK(flags >= 0 && !(flags & FD_CLOEXEC)); /* inherited by children */
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0600, 0600);
    unlink(path);
    unlink(rotated);
}

TEST(appends_to_an_existing_file)
{
    char path[256];
    snprintf(path, sizeof path, "%s/append.log", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    put(fd, "old line\n");
    close(fd);
    int saved = dup(STDERR_FILENO);
    CHECK_EQ_INT(cmn_logfile_reopen(NULL, path), 0);
    put(STDERR_FILENO, "new line\n");
    restore(saved, STDERR_FILENO);
    CHECK_EQ_STR(slurp(path), "old line\nnew line\n");
    unlink(path);
}

TEST(missing_directory_keeps_the_old_fds)
{
    char good[256], bad[256], out_path[256];
    snprintf(good, sizeof good, "%s/kept.log", dir);
    snprintf(bad, sizeof bad, "%s/no/such/dir/error.log", dir);
    snprintf(out_path, sizeof out_path, "%s/out.log", dir);
    int saved = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO);
    fflush(stdout);

    CHECK_EQ_INT(cmn_logfile_reopen(NULL, good), 0);
    CHECK_EQ_INT(cmn_logfile_reopen(NULL, bad), -ENOENT);
    put(STDERR_FILENO, "stderr still works\n");
    /* a good stdout path with a bad stderr path switches neither */
    CHECK_EQ_INT(cmn_logfile_reopen(out_path, bad), -ENOENT);
    put(STDERR_FILENO, "and again\n");
    put(STDOUT_FILENO, "");
    restore(saved, STDERR_FILENO);
    restore(saved_out, STDOUT_FILENO);

    CHECK_EQ_STR(slurp(good), "stderr still works\nand again\n");
    CHECK_EQ_STR(slurp(out_path), ""); /* created, but never installed */
    unlink(good);
    unlink(out_path);
}

TEST(same_path_for_both_shares_one_file)
{
    char path[256];
    snprintf(path, sizeof path, "%s/both.log", dir);
    fflush(stdout);
    int saved = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO);
    CHECK_EQ_INT(cmn_logfile_reopen(path, path), 0);
    put(STDOUT_FILENO, "out ");
    put(STDERR_FILENO, "err ");
    printf("printf\n"); /* buffered: flushed before the next redirect */
    CHECK_EQ_INT(cmn_logfile_reopen(path, NULL), 0);
    restore(saved, STDERR_FILENO);
    restore(saved_out, STDOUT_FILENO);
    CHECK_EQ_STR(slurp(path), "out err printf\n");
    unlink(path);
}

TEST(closed_stderr_is_filled_in_place)
{
    /* With fd 2 closed, open() would hand back 2 itself; the result must
     * still be a plain, inheritable fd 2 pointing at the file. */
    char path[256];
    snprintf(path, sizeof path, "%s/closed.log", dir);
    int saved = dup(STDERR_FILENO);
    close(STDERR_FILENO);
    CHECK_EQ_INT(cmn_logfile_reopen(NULL, path), 0);
    put(STDERR_FILENO, "in place\n");
    int flags = fcntl(STDERR_FILENO, F_GETFD);
    restore(saved, STDERR_FILENO);
    CHECK_EQ_STR(slurp(path), "in place\n");
    CHECK(flags >= 0 && !(flags & FD_CLOEXEC));
    unlink(path);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(rotation_reopens_the_path);
    RUN(appends_to_an_existing_file);
    RUN(missing_directory_keeps_the_old_fds);
    RUN(same_path_for_both_shares_one_file);
    RUN(closed_stderr_is_filled_in_place);
    rmdir(dir);
    return unit_finish();
}
