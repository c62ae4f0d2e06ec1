// run_child: runs a call that should end the process (a FATAL) in a child, with its stdout sent to
// /dev/null and its stderr read back, for the unit tests that check kida's error messages.
#ifndef KIDA_TESTS_RUN_CHILD_H
#define KIDA_TESTS_RUN_CHILD_H
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

// Runs fn(arg) in a child; err (cap bytes) receives its stderr, NUL-terminated. Returns the
// child's exit status, or -1 when it did not exit (a signal). Exits 99 when the child cannot start.
static inline int run_child(void (*fn)(void *), void *arg, char *err, size_t cap) {
    int pfd[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(pfd) != 0) { perror("setup error: pipe"); exit(99); }
    pid_t pid = fork();
    if (pid < 0) { perror("setup error: fork"); exit(99); }
    if (pid == 0) {
        close(pfd[0]);
        dup2(pfd[1], 2);
        if (!freopen("/dev/null", "w", stdout)) _exit(98);
        fn(arg);
        _exit(0);   // fn returned: no fatal error
    }
    close(pfd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(pfd[0], err + n, cap - 1 - n)) > 0) n += (size_t)r;
    err[n] = '\0';
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
#endif
