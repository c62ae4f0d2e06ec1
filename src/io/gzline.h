// gzline: line-by-line reading of plain or gzip-compressed text files (zlib's gzopen reads both),
// with the checks and messages every text reader of kida needs.
#ifndef KIDA_GZLINE_H
#define KIDA_GZLINE_H
#include <stddef.h>

typedef struct GzLines GzLines;

// Opens path for reading. FATAL (naming the file and `what`, e.g. "GMT file") when it cannot be
// opened.
GzLines *gzlines_open(const char *path, const char *what);
// Reads the next line into an internal buffer without its line end ("\n" or "\r\n"); returns it
// (valid until the next call) and sets *len, or returns NULL at end of file. FATAL on a read or
// decompression error (naming the file and line). A NUL byte inside a line is FATAL as well
// (not a text file).
char *gzlines_next(GzLines *f, size_t *len);
// 1-based number of the line last returned.
size_t gzlines_lineno(const GzLines *f);
const char *gzlines_path(const GzLines *f);
// Closes the file and frees f.
void gzlines_close(GzLines *f);
// Closes every reader still open. For callers that go on after a FATAL interrupted a reader (the
// fuzz targets, tests/fuzz/fuzz_main.c): kida itself ends on a FATAL. Not thread-safe.
void gzlines_close_all(void);

// Splits s in place at every `sep`, storing up to max field starts in fields; returns the number
// of fields found (which may exceed max; only the first max are stored).
size_t str_split(char *s, char sep, char **fields, size_t max);
// Strips leading and trailing ASCII whitespace in place; returns the new start.
char *str_trim(char *s);
// 1 if s is empty or only ASCII whitespace.
int str_is_blank(const char *s);
// 1 if s ends with suffix.
int str_ends_with(const char *s, const char *suffix);
#endif
