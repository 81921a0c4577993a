/* Writing a file where the user pointed (--output): a path keeps being what it was.
 *   "-"                        standard output (flushed, never closed);
 *   a symlink                  followed (also when dangling): its target gets the content and
 *                              the link stays a link;
 *   a character device, FIFO   written into directly (a FIFO's reader gets the content; a
 *   or socket                  device stays a device);
 *   a regular file, new path   written atomically: a temporary file in the same folder, fsync,
 *                              rename over the resolved path; an existing file's mode and, where
 *                              permitted, owner are kept; a new file gets 0666 & ~umask. Missing
 *                              folders are created.
 * HRET_OUTFILE_EXCLUSIVE creates the name with O_EXCL first and fails with HRET_E_CONFLICT when
 * anything is there, so a generated name never replaces a file. */
#ifndef HRET_OUTFILE_H
#define HRET_OUTFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hret_err.h"

enum hret_outfile_flags { HRET_OUTFILE_EXCLUSIVE = 1 };

struct hret_outfile;

/* Opens path (borrowed) for writing; *out (caller owns) is finished with _commit or _abort. */
enum hret_result hret_outfile_open(const char *path, unsigned flags, struct hret_outfile **out,
                                   struct hret_err *err) HRET_MUSTCHECK;
/* The stream to write to (borrowed; valid until _commit or _abort). */
FILE *hret_outfile_stream(struct hret_outfile *f);
/* Flushes, syncs and puts the content in place; a write error at any point (ENOSPC on
 * /dev/full) fails with the path and strerror. Frees f either way. */
enum hret_result hret_outfile_commit(struct hret_outfile *f, struct hret_err *err);
/* Drops what was written (a temporary file is removed; a name reserved by EXCLUSIVE too).
 * Frees f; NULL is a no-op. */
void hret_outfile_abort(struct hret_outfile *f);

/* A scratch file for data too large to hold in memory: read-write, in $TMPDIR (else /tmp),
 * already unlinked so it vanishes with the process. Caller owns result (fclose); NULL with
 * HRET_E_UNAVAILABLE naming the folder when none can be made. what (borrowed) names it. */
FILE *hret_outfile_scratch(const char *what, struct hret_err *err);

/* n bytes at offset off of fd, read or written whole: interrupted and short calls are resumed.
 * False on failure with errno set; a read past the end of the file fails with errno 0. */
bool hret_outfile_pread(int fd, void *dst, size_t n, uint64_t off);
bool hret_outfile_pwrite(int fd, const void *src, size_t n, uint64_t off);

#endif
