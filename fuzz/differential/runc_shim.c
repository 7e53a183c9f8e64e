/*
 * Glue that makes runc's C message parser (nl_parse in libcontainer/nsenter/nsexec.c) callable in-process
 * by the differential fuzz targets. It implements fuzz/differential/nsb_their.h.
 *
 * This file holds none of runc's code: it #includes the nsexec.c named at build time
 * (NSB_DIFF_NSEXEC=/path/to/nsexec.c, passed by fuzz/build.rs as NSB_DIFF_NSEXEC_FILE), so that the
 * static nl_parse() is visible here, and changes the meaning of a few names around that #include only:
 *
 *   exit(n)        -> longjmp back into nsb_their_parse() (bail() ends in exit(1)): a refusal, not a death;
 *   fprintf(...)   -> captured instead of written to stderr (bail() writes there when no log pipe is set);
 *
 * and it sets runc's logfd to a memfd before each parse, as runc's Go side always passes a log pipe: a
 * refusal then goes through runc's own write_log() and escape_json_string() (more of their code under
 * the fuzzer), and the JSON line it writes becomes the result's message. Define NSB_DIFF_NO_LOGFD for a
 * generation without `logfd`.
 *   malloc/free    -> tracked, so that what nl_parse allocated is freed after a bail() too (no leaks for
 *                     libFuzzer's leak checker);
 *   nsexec, main   -> renamed out of the way (nsexec() is the cgo constructor's entry; never called).
 *
 * The sibling .c files of that directory (escape.c, cloned_binary.c in 1.1; log.c, getenv.c, escape.c in
 * 1.2+) are compiled as they are, as separate units, by build.rs (no stubs here: a weak stand-in would
 * keep the linker from taking the real one out of the archive).
 *
 * The input reaches nl_parse through its real interface, a file descriptor: a memfd holding the input,
 * rewound, so one read(2) returns as much as asked for (runc's Go side writes the whole message at once).
 *
 * Works with every runc generation whose nl_parse has the signature
 *     static void nl_parse(int fd, struct nlconfig_t *config)
 * (v1.0.0-rc93 to v1.4.x): 27290 is mountsources when MOUNT_SOURCES_ATTR is defined (1.1) and
 * timensoffset when TIMENSOFFSET_ATTR is (1.2+).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

/* Every system header nsexec.c includes, included first, so that the renames below touch runc's code only. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/limits.h>
#include <linux/netlink.h>
#include <linux/types.h>

#include "nsb_their.h"

#ifndef NSB_DIFF_NSEXEC_FILE
#error "NSB_DIFF_NSEXEC_FILE is not defined: fuzz/build.rs passes it when NSB_DIFF_NSEXEC is set"
#endif

/* The most bytes of a length-delimited text the consumer model reads (larger recorded lengths are the
 * size_t underflow of nla_len 1..3, spec R2, which the later stages hand to write(2) and the kernel
 * refuses). Keep equal to TOUCH_LIMIT in fuzz/src/differential/model.rs. */
#define NSB_TOUCH_LIMIT (1u << 20)

static jmp_buf nsb_jmp;
static int nsb_jmp_armed;
static int nsb_exit_code;
static char nsb_message[200];

#define NSB_MAX_ALLOCS 64
static void *nsb_allocs[NSB_MAX_ALLOCS];

__attribute__((noreturn)) static void nsb_their_exit(int code)
{
	if (!nsb_jmp_armed) {
		/* Not inside nsb_their_parse(): nothing to return to. */
		_exit(code);
	}
	nsb_exit_code = code;
	longjmp(nsb_jmp, 1);
}

__attribute__((format(printf, 2, 3))) static int nsb_their_fprintf(FILE *f, const char *fmt, ...)
{
	(void)f;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(nsb_message, sizeof nsb_message, fmt, ap);
	va_end(ap);
	if (getenv("NSB_DIFF_VERBOSE"))
		fprintf(stderr, "their parser: %s", nsb_message);
	return n;
}

static void *nsb_their_malloc(size_t n)
{
	void *p = malloc(n);
	if (p) {
		for (int i = 0; i < NSB_MAX_ALLOCS; i++) {
			if (!nsb_allocs[i]) {
				nsb_allocs[i] = p;
				break;
			}
		}
	}
	return p;
}

static void nsb_their_free(void *p)
{
	if (!p)
		return;
	for (int i = 0; i < NSB_MAX_ALLOCS; i++) {
		if (nsb_allocs[i] == p)
			nsb_allocs[i] = NULL;
	}
	free(p);
}

static void *nsb_their_realloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (q) {
		for (int i = 0; i < NSB_MAX_ALLOCS; i++) {
			if (nsb_allocs[i] == p) {
				nsb_allocs[i] = NULL;
				break;
			}
		}
		for (int i = 0; i < NSB_MAX_ALLOCS; i++) {
			if (!nsb_allocs[i]) {
				nsb_allocs[i] = q;
				break;
			}
		}
	}
	return q;
}

/* ---- runc's file, with the renames ------------------------------------------------------------------ */
#define exit(code) nsb_their_exit(code)
#define fprintf nsb_their_fprintf
#define malloc(n) nsb_their_malloc(n)
#define free(p) nsb_their_free(p)
#define realloc(p, n) nsb_their_realloc(p, n)
#define nsexec nsb_their_nsexec_unused
#define main nsb_their_main_unused

#include NSB_DIFF_NSEXEC_FILE

#undef exit
#undef fprintf
#undef malloc
#undef free
#undef realloc
#undef nsexec
#undef main
/* ----------------------------------------------------------------------------------------------------- */

static void nsb_touch(const char *p, size_t len)
{
	volatile unsigned char sink = 0;
	for (size_t i = 0; i < len; i++)
		sink ^= (unsigned char)p[i];
	(void)sink;
}

/* Records a text field and touches it as the later stages do: as a C string, or `len` bytes. */
static void nsb_text(struct nsb_their_text *t, const char *p, size_t len, const char *data, int c_string)
{
	if (!p)
		return;
	t->present = 1;
	t->offset = (int64_t)(p - data);
	t->len = (uint64_t)len;
	if (c_string) {
		t->c_len = (int64_t)strlen(p);
	} else {
		t->c_len = -1;
		if (len <= NSB_TOUCH_LIMIT)
			nsb_touch(p, len);
	}
}

/* A NUL-separated list walked the way runc 1.1's send_mountsources() walks it. */
static void nsb_list(struct nsb_their_text *t, const char *p, size_t len, const char *data)
{
	if (!p)
		return;
	t->present = 1;
	t->offset = (int64_t)(p - data);
	t->len = (uint64_t)len;
	/* volatile: strlen is pure, and a loop of pure calls whose results go nowhere may be deleted. */
	volatile size_t sink = strlen(p);
	t->c_len = -1; /* a list, not one string: compared by its length */
	if (len <= NSB_TOUCH_LIMIT) {
		const char *end = p + len;
		while (p < end) {
			size_t n = strlen(p);
			sink += n;
			p += n + 1;
		}
	}
}

static int nsb_memfd = -1;
static int nsb_logmemfd = -1;

int nsb_their_parse(const uint8_t *input, size_t len, struct nsb_their_result *out)
{
	memset(out, 0, sizeof *out);
	if (nsb_memfd < 0) {
		nsb_memfd = memfd_create("nsb-their-input", MFD_CLOEXEC);
		if (nsb_memfd < 0) {
			perror("memfd_create");
			abort();
		}
	}
	if (ftruncate(nsb_memfd, 0) < 0 || (len && pwrite(nsb_memfd, input, len, 0) != (ssize_t)len) ||
	    lseek(nsb_memfd, 0, SEEK_SET) != 0) {
		perror("memfd");
		abort();
	}
#ifndef NSB_DIFF_NO_LOGFD
	if (nsb_logmemfd < 0) {
		nsb_logmemfd = memfd_create("nsb-their-log", MFD_CLOEXEC);
		if (nsb_logmemfd < 0) {
			perror("memfd_create");
			abort();
		}
	}
	if (ftruncate(nsb_logmemfd, 0) < 0 || lseek(nsb_logmemfd, 0, SEEK_SET) != 0) {
		perror("memfd");
		abort();
	}
	logfd = nsb_logmemfd;
#endif
	memset(nsb_allocs, 0, sizeof nsb_allocs);
	nsb_message[0] = 0;
	nsb_exit_code = 0;

	/* static: read after a longjmp. */
	static struct nlconfig_t config;
	memset(&config, 0, sizeof config);

	if (setjmp(nsb_jmp) == 0) {
		nsb_jmp_armed = 1;
		nl_parse(nsb_memfd, &config);
		nsb_jmp_armed = 0;

		out->status = NSB_THEIR_ACCEPT;
		const char *data = config.data;
		out->clone_flags = config.cloneflags;
		out->setgroups = config.is_setgroup;
		out->rootless_euid = config.is_rootless_euid;
		nsb_text(&out->ns_paths, config.namespaces, config.namespaces_len, data, 1);
		nsb_text(&out->uid_map, config.uidmap, config.uidmap_len, data, 0);
		nsb_text(&out->gid_map, config.gidmap, config.gidmap_len, data, 0);
		nsb_text(&out->oom_score_adj, config.oom_score_adj, config.oom_score_adj_len, data, 0);
		nsb_text(&out->uidmap_path, config.uidmappath, config.uidmappath_len, data, 1);
		nsb_text(&out->gidmap_path, config.gidmappath, config.gidmappath_len, data, 1);
#if defined(MOUNT_SOURCES_ATTR)
		nsb_list(&out->attr27290, config.mountsources, config.mountsources_len, data);
#elif defined(TIMENSOFFSET_ATTR)
		nsb_text(&out->attr27290, config.timensoffset, config.timensoffset_len, data, 0);
#endif
	} else {
		nsb_jmp_armed = 0;
		out->status = NSB_THEIR_REFUSE;
		out->exit_code = nsb_exit_code;
		snprintf(out->message, sizeof out->message, "%s", nsb_message);
#ifndef NSB_DIFF_NO_LOGFD
		ssize_t n = pread(nsb_logmemfd, out->message, sizeof out->message - 1, 0);
		if (n > 0)
			out->message[n] = 0;
#endif
	}

	for (int i = 0; i < NSB_MAX_ALLOCS; i++) {
		if (nsb_allocs[i]) {
			free(nsb_allocs[i]);
			nsb_allocs[i] = NULL;
		}
	}
	return out->status;
}

const char *nsb_their_name(void)
{
	return "runc nsexec.c (" NSB_DIFF_NSEXEC_FILE ")";
}
