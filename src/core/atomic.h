// atomic: write-then-rename helpers so a result file is either the old one or the complete new
// one, never half-written (used by the h5ad writer and by checkpoints).
#ifndef KIDA_ATOMIC_H
#define KIDA_ATOMIC_H

// A new string "<dir>/.<base>.tmp.<pid>" in the same directory as final_path (so rename is
// atomic on one file system). Free with free().
char *atomic_tmp_path(const char *final_path);
// fsyncs tmp, renames it over final_path and fsyncs the directory. FATAL with the errno text
// (and both paths) on any failure; tmp is left in place then.
void atomic_commit(const char *tmp, const char *final_path);
// Registers tmp (an unfinished temporary) for removal should this process stop on a fatal error;
// a failing rank thus removes the temporary of a file all ranks write. Up to 8 at a time.
void atomic_tmp_guard(const char *tmp);
// Ends the guard of tmp (before its commit, so that a failed rename leaves the result in tmp).
void atomic_tmp_unguard(const char *tmp);
// 1 if something (file, directory, link) exists at path, else 0.
int path_exists(const char *path);
#endif
