//! The `nsbootstrap` command's codec tools, run as a user would.

use nsbootstrap_conformance::testing::{self, Needs, Test};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_nsbootstrap")
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nsbootstrap");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn vectors(group: &str) -> Vec<(PathBuf, serde_json::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spec/vectors")
        .join(group);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .map(|p| {
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(p.with_extension("json")).unwrap()).unwrap();
            (p, json)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn decode_json_then_encode_gives_the_same_bytes_for_every_canonical_vector() {
    let mut checked = 0;
    for (bin_path, desc) in vectors("valid") {
        if desc["canonical"] != true {
            continue;
        }
        let dialect = desc["dialect"].as_str().unwrap();
        let bytes = std::fs::read(&bin_path).unwrap();
        let dec = run(
            &[
                "decode",
                "--json",
                "--dialect",
                dialect,
                bin_path.to_str().unwrap(),
            ],
            b"",
        );
        assert!(
            dec.status.success(),
            "{}: {}",
            bin_path.display(),
            String::from_utf8_lossy(&dec.stderr)
        );
        // No --dialect: the JSON names it. A plan that breaks spec section 8 is refused with the rule's
        // class unless --inconsistent says it is meant.
        let mut enc = run(&["encode", "-"], &dec.stdout);
        if !enc.status.success() && String::from_utf8_lossy(&enc.stderr).contains("plan-") {
            assert_eq!(enc.stderr.iter().filter(|&&b| b == b'\n').count(), 1);
            enc = run(&["encode", "--inconsistent", "-"], &dec.stdout);
        }
        assert!(
            enc.status.success(),
            "{}: {}",
            bin_path.display(),
            String::from_utf8_lossy(&enc.stderr)
        );
        assert_eq!(enc.stdout, bytes, "{}", bin_path.display());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} canonical vectors");
}

fn every_invalid_vector_is_one_line_and_exit_1() {
    for (bin_path, desc) in vectors("invalid") {
        let dialect = desc["dialect"].as_str().unwrap();
        let class = desc["strict"]["error"]["class"].as_str().unwrap();
        for cmd in ["decode", "explain"] {
            let out = run(
                &[cmd, "--dialect", dialect, bin_path.to_str().unwrap()],
                b"",
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{cmd} {}: {err}",
                bin_path.display()
            );
            assert_eq!(
                err.lines().count(),
                1,
                "{cmd} {}: {err}",
                bin_path.display()
            );
            assert!(
                err.contains(class),
                "{cmd} {}: {err} lacks {class}",
                bin_path.display()
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

fn explain_names_fields_offsets_and_the_fault() {
    let plan = br#"{"clone_flags": ["user"], "uid_map": [{"container_id": 0, "host_id": 1000, "size": 1}]}"#;
    let enc = run(&["encode", "--dialect", "runc-1.1"], plan);
    assert!(enc.status.success());
    let mut bytes = enc.stdout;
    let ok = run(&["explain", "--dialect", "runc-1.1"], &bytes);
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{text}");
    assert!(
        text.contains("0000  ") && text.contains("nlmsg_len 40"),
        "{text}"
    );
    assert!(text.contains("uid_map (27283), nla_len 14"), "{text}");
    bytes[24] = 0xff; // uid_map's nla_len now runs past the end
    let bad = run(&["explain", "--dialect", "runc-1.1"], &bytes);
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text.contains("error at offset 24: attr-past-end"), "{text}");
}

fn encode_errors_are_one_line() {
    let cases: [(&[&str], &[u8], &str); 4] = [
        (&["encode"], b"{not json", "not valid JSON"),
        (
            &["encode", "--dialect", "runc-1.2"],
            br#"{"console_path": "/dev/pts/0"}"#,
            "attr-not-in-dialect",
        ),
        (
            &["encode", "--dialect", "runc-1.1"],
            br#"{"dialect": "runc-1.2"}"#,
            "contradicts",
        ),
        (
            &["encode"],
            br#"{"namespace_paths": [{"type": "net", "path": "relative"}]}"#,
            "relative-path",
        ),
    ];
    for (args, input, needle) in cases {
        let out = run(args, input);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err} lacks {needle}");
        assert!(out.stdout.is_empty());
    }
    let missing = run(&["decode", "/nonexistent/file"], b"");
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/file"));
}

fn main() {
    testing::run_in(
        env!("CARGO_MANIFEST_DIR"),
        &[
            Test::new(
                "decode_json_then_encode_gives_the_same_bytes_for_every_canonical_vector",
                decode_json_then_encode_gives_the_same_bytes_for_every_canonical_vector,
            )
            .needs(Needs::Repository),
            Test::new(
                "every_invalid_vector_is_one_line_and_exit_1",
                every_invalid_vector_is_one_line_and_exit_1,
            )
            .needs(Needs::Repository),
            Test::new(
                "explain_names_fields_offsets_and_the_fault",
                explain_names_fields_offsets_and_the_fault,
            ),
            Test::new("encode_errors_are_one_line", encode_errors_are_one_line),
        ],
    )
}
