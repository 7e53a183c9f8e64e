/*
 * nsbootstrap-nsexec: runc's nsexec, implemented by nsbootstrap's executor (Rust).
 *
 * Link libnsbootstrap_nsexec.a (cargo build --release -p nsbootstrap-nsexec) and the system libraries
 * rustc names for it: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc.
 */
#ifndef NSBOOTSTRAP_NSEXEC_H
#define NSBOOTSTRAP_NSEXEC_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Runs runc's namespace bootstrap when _LIBCONTAINER_INITPIPE names the init pipe, in the dialect the
 * library was built for (runc-1.1 by default). Returns at once without _LIBCONTAINER_INITPIPE, and in
 * the final process (stage 2) after the bootstrap; exits with status 1 after a fatal log line on
 * failure. Call it only while the process has a single thread (runc calls it from a constructor, before
 * the Go runtime starts) and start no thread before it returns.
 */
void nsexec(void);

#ifdef __cplusplus
}
#endif

#endif /* NSBOOTSTRAP_NSEXEC_H */
