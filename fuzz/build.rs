//! Builds the differential targets' C side when an implementation is named.
//!
//! `NSB_DIFF_NSEXEC=/path/to/nsexec.c` (runc's parser, any generation): compiles
//! `differential/runc_shim.c`, which `#include`s that file, plus every other `.c` file of its directory,
//! with clang, libFuzzer's coverage instrumentation (`-fsanitize=fuzzer-no-link`) and, when cargo-fuzz
//! builds with AddressSanitizer, `-fsanitize=address`; then sets `--cfg nsb_their` so the targets call it.
//!
//! `NSB_DIFF_GLUE=/path/to/glue.c` instead: another implementation's own glue, implementing
//! `differential/nsb_their.h` (see docs/differential-fuzzing.md); `NSB_DIFF_GLUE_SOURCES` lists more
//! `.c` files to compile with it (space-separated), `NSB_DIFF_GLUE_INCLUDE` more include directories.
//!
//! Neither set: nothing is compiled, and the differential targets say so when run (`cargo check --bins`
//! and the other targets are unaffected). `NSB_DIFF_CC` overrides the compiler (default `clang`).
use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(nsb_their)");
    println!("cargo::rustc-check-cfg=cfg(nsb_asan)");
    for v in [
        "NSB_DIFF_NSEXEC",
        "NSB_DIFF_GLUE",
        "NSB_DIFF_GLUE_SOURCES",
        "NSB_DIFF_GLUE_INCLUDE",
        "NSB_DIFF_CC",
    ] {
        println!("cargo::rerun-if-env-changed={v}");
    }
    println!("cargo::rerun-if-changed=differential/runc_shim.c");
    println!("cargo::rerun-if-changed=differential/nsb_their.h");

    let asan = env::var("CARGO_CFG_SANITIZE").is_ok_and(|s| s.split(',').any(|x| x == "address"));
    if asan {
        println!("cargo::rustc-cfg=nsb_asan");
    }

    let nsexec = env::var_os("NSB_DIFF_NSEXEC").filter(|v| !v.is_empty());
    let glue = env::var_os("NSB_DIFF_GLUE").filter(|v| !v.is_empty());
    if nsexec.is_none() && glue.is_none() {
        return;
    }
    let here = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("differential");
    let mut build = cc::Build::new();
    build
        .compiler(env::var("NSB_DIFF_CC").unwrap_or_else(|_| "clang".into()))
        .include(&here)
        .opt_level(1)
        .debug(true)
        .warnings(false)
        .flag("-w")
        .flag("-fno-omit-frame-pointer")
        .flag("-fsanitize=fuzzer-no-link");
    if asan {
        build.flag("-fsanitize=address");
    }
    let mut name = String::new();
    if let Some(nsexec) = nsexec {
        let file = Path::new(&nsexec)
            .canonicalize()
            .unwrap_or_else(|e| panic!("NSB_DIFF_NSEXEC={}: {e}", Path::new(&nsexec).display()));
        let dir = file.parent().unwrap().to_path_buf();
        println!("cargo::rerun-if-changed={}", file.display());
        build
            .include(&dir)
            .define(
                "NSB_DIFF_NSEXEC_FILE",
                Some(format!("\"{}\"", file.display()).as_str()),
            )
            .file(here.join("runc_shim.c"));
        // The other units of runc's nsenter package (escape.c, cloned_binary.c, log.c, getenv.c, ...).
        let mut siblings: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c") && *p != file)
            .collect();
        siblings.sort();
        for s in siblings {
            println!("cargo::rerun-if-changed={}", s.display());
            build.file(s);
        }
        name = format!("{}", file.display());
    } else if let Some(glue) = glue {
        let file = PathBuf::from(&glue);
        println!("cargo::rerun-if-changed={}", file.display());
        build.file(&file);
        if let Some(dir) = file.parent() {
            build.include(dir);
        }
        for s in env::var("NSB_DIFF_GLUE_SOURCES")
            .unwrap_or_default()
            .split_whitespace()
        {
            println!("cargo::rerun-if-changed={s}");
            build.file(s);
        }
        for i in env::var("NSB_DIFF_GLUE_INCLUDE")
            .unwrap_or_default()
            .split_whitespace()
        {
            build.include(i);
        }
        name = file.display().to_string();
    }
    build.compile("nsb_their");
    println!("cargo::rustc-cfg=nsb_their");
    println!("cargo::rustc-env=NSB_THEIR_SOURCE={name}");
}
