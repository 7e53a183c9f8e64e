//! `nsbootstrap-init`'s command line, without a runtime.

use std::process::Command;

#[test]
fn nsbootstrap_init_binary_takes_the_init_arguments_and_refuses_others() {
    let init = env!("CARGO_BIN_EXE_nsbootstrap-init");
    // Anything but the init grammar: a usage line and exit 2, before touching any descriptor.
    for bad in [
        &["--bogus"][..],
        &["--dialect", "runc-9"],
        &["init", "init"],
        &["sh"],
    ] {
        let out = Command::new(init)
            .args(bad)
            .env_remove("_LIBCONTAINER_INITPIPE")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("usage: nsbootstrap-init"), "{bad:?}: {err}");
    }
    // The grammar itself, with and without the leading `init`, reaches the executor, which says that no
    // runtime started it.
    for good in [
        &["--dialect", "runc-1.1"][..],
        &["init", "--lenient", "--", "true"],
        &[],
    ] {
        let out = Command::new(init)
            .args(good)
            .env_remove("_LIBCONTAINER_INITPIPE")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{good:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("_LIBCONTAINER_INITPIPE is not set"),
            "{good:?}: {err}"
        );
    }
}
