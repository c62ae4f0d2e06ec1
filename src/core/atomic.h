// atomic: write-then-rename helpers so a result file is either the old one or the complete new
// one, never half-written (used by the h5ad writer and by checkpoints). A temporary that a fatal
// error interrupts is removed, and so is one whose writer crashes (SIGSEGV, SIGBUS: libhdf5 can
// crash when a write fails mid-file); one left by a killed process is removed by the next run.
// Once a temporary is open, SIGXFSZ is ignored: a write past the file size limit fails (EFBIG)
// and is reported like a full disk, instead of killing the process.
#ifndef KIDA_ATOMIC_H
#define KIDA_ATOMIC_H
#include <stddef.h>

// A new string "<dir>/.<base>.tmp.<host>.<pid>" in the same directory as final_path (so rename is
// atomic on one file system). Free with free(). The path is remembered: a fatal error removes the
// file until atomic_commit or atomic_discard is called for it.
char *atomic_tmp_path(const char *final_path);
// fsyncs tmp, renames it over final_path and fsyncs the directory. FATAL with the errno text
// (and both paths) on any failure; tmp is left in place then (it is complete).
void atomic_commit(const char *tmp, const char *final_path);
// Removes tmp (if present) and forgets it.
void atomic_discard(const char *tmp);
// Removes the temporaries of final_path that killed processes left: ".<base>.tmp.<host>.<pid>"
// of this host whose process no longer runs, and the older ".<base>.tmp.<pid>" form likewise;
// with any_host, those of every host (the caller holds a lock that no live run can share).
// Returns how many were removed (each is logged).
size_t atomic_clean_stale(const char *final_path, int any_host);
// Bytes a new file next to path may take: the file system's free space (for unprivileged users)
// or, when smaller, the process's file size limit (ulimit -f; *by_limit set to 1 then). fsid (may
// be NULL) receives the file system's id. -1 when the folder cannot be examined.
double atomic_room(const char *path, unsigned long *fsid, int *by_limit);
// Registers tmp (an unfinished temporary another rank named) for removal should this process stop
// on a fatal error or crash, as atomic_tmp_path does for its own; a failing rank thus removes the
// temporary of a file all ranks write.
void atomic_tmp_guard(const char *tmp);
// Ends the guard of tmp (before its commit, so that a failed rename leaves the result in tmp).
void atomic_tmp_unguard(const char *tmp);
// 1 if something (file, directory, link) exists at path, else 0.
int path_exists(const char *path);
// Directory part of path ("." when it has none), as a new string.
char *path_dir(const char *path);
#endif
