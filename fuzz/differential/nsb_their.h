/*
 * The one C function a differential harness needs from an implementation under test.
 *
 * fuzz/build.rs compiles a glue file (for runc's nsexec.c: fuzz/differential/runc_shim.c) that defines
 * nsb_their_parse() on top of the implementation's own parser, with clang, the fuzzer's coverage
 * instrumentation and (when cargo-fuzz builds with it) AddressSanitizer. The Rust side
 * (fuzz/src/differential/ffi.rs) mirrors this header; keep the two in step.
 *
 * Contract, for one call:
 *   - `input`/`len` are the bytes the runtime wrote on the init pipe (the message, possibly followed by
 *     more bytes). Feed them to the parser as its real input channel would (an fd: use a memfd, so that
 *     one read(2) returns everything, like runc's Go side writing the whole message at once).
 *   - Return NSB_THEIR_ACCEPT when the parser returned a configuration, NSB_THEIR_REFUSE when it gave up
 *     (runc: bail() -> exit(1), redirected by the glue). Never exit, never leak: free what the parser
 *     allocated on both paths (libFuzzer's leak checker runs under ASan).
 *   - Fill `out` (zeroed by the caller) with what the parser decoded. Text fields are given as the
 *     offset of their first byte from the start of the *payload* (the byte after the 16-byte header) and
 *     the length the parser recorded for them, which may be absurd (runc keeps nla_len - 4 computed in
 *     size_t). `c_len` is the length the implementation's later stages will use when they treat the field
 *     as a C string (strlen), or -1 when they use the recorded length instead.
 *   - Touch every decoded field the way the implementation's later stages will (strlen for C strings,
 *     a read of `len` bytes for length-delimited texts), so that AddressSanitizer reports reads past the
 *     buffer that only happen after the parser returned (runc: strtok_r/open/execve on unterminated paths).
 *   - `message` gets the parser's own error text when it refuses (best effort, truncated).
 */
#ifndef NSB_THEIR_H
#define NSB_THEIR_H

#include <stddef.h>
#include <stdint.h>

#define NSB_THEIR_ACCEPT 0
#define NSB_THEIR_REFUSE 1

struct nsb_their_text {
	int32_t present;
	int64_t offset; /* from the start of the payload (message offset - 16) */
	uint64_t len;   /* the length the parser recorded */
	int64_t c_len;  /* strlen() as the later stages see it, or -1 */
};

struct nsb_their_result {
	int32_t status; /* NSB_THEIR_ACCEPT or NSB_THEIR_REFUSE */
	int32_t exit_code;
	uint32_t clone_flags;
	uint8_t setgroups;
	uint8_t rootless_euid;
	struct nsb_their_text ns_paths;      /* 27282 */
	struct nsb_their_text uid_map;       /* 27283 */
	struct nsb_their_text gid_map;       /* 27284 */
	struct nsb_their_text oom_score_adj; /* 27286 */
	struct nsb_their_text uidmap_path;   /* 27288 */
	struct nsb_their_text gidmap_path;   /* 27289 */
	struct nsb_their_text attr27290;     /* mount sources (runc 1.1) or time offsets (runc 1.2+) */
	char message[200];
};

/* Parses one input; see above. Returns out->status. */
int nsb_their_parse(const uint8_t *input, size_t len, struct nsb_their_result *out);

/* A short name of the implementation, for reports ("runc nsexec.c (/path)"). */
const char *nsb_their_name(void);

#endif
