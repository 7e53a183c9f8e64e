//! Runs the codec over every vector in `spec/vectors/` (whole, and split at every byte boundary).

use nsbootstrap_conformance::testing::{self, Test};
use nsbootstrap_conformance::vectors;
use std::path::Path;

fn codec_agrees_with_every_vector() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let all = vectors::load(&dir).expect("vectors load");
    let valid = all.iter().filter(|v| v.name.starts_with("valid/")).count();
    let invalid = all.len() - valid;
    assert!(
        valid >= 30 && invalid >= 30,
        "{valid} valid and {invalid} invalid vectors: the spec asks for 30 of each"
    );
    let mut failures = Vec::new();
    for v in &all {
        for f in vectors::check(v) {
            failures.push(format!("{}: {f}", v.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} discrepancies:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!(
        "{} vectors checked ({valid} valid, {invalid} invalid)",
        all.len()
    );
}

fn every_error_class_has_a_vector() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let all = vectors::load(&dir).expect("vectors load");
    // attr-header-truncated cannot happen in strict mode (an aligned message leaves no 1 to 3 bytes), so
    // classes count from either mode.
    let classes: std::collections::BTreeSet<String> = all
        .iter()
        .flat_map(|v| [&v.spec.strict.error, &v.spec.lenient.error])
        .filter_map(|e| e.as_ref().map(|e| e.class.clone()))
        .collect();
    let required = [
        "truncated-header",
        "length-too-short",
        "length-too-large",
        "wrong-type",
        "truncated",
        "trailing-bytes",
        "unaligned-length",
        "attr-header-truncated",
        "attr-too-short",
        "attr-past-end",
        "unknown-attr",
        "attr-not-in-dialect",
        "repeated-attr",
        "missing-attr",
        "nonzero-padding",
        "payload-length",
        "missing-nul",
        "embedded-nul",
        "bad-bool",
        "unknown-clone-flags",
        "empty-payload",
        "bad-ns-entry",
        "unknown-ns-type",
        "ns-type-not-in-dialect",
        "repeated-ns-type",
        "relative-path",
        "path-too-long",
        "bad-id-map",
        "id-map-overlap",
        "id-map-too-long",
        "bad-oom-score-adj",
        "bad-mount-sources",
        "bad-time-offsets",
    ];
    let missing: Vec<_> = required.iter().filter(|c| !classes.contains(**c)).collect();
    assert!(missing.is_empty(), "no invalid vector for {missing:?}");
}

/// Every valid vector, with its dialect.
fn valid_vectors() -> Vec<(nsbootstrap_codec::Dialect, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let all = vectors::load(&dir).expect("vectors load");
    let out: Vec<_> = all
        .into_iter()
        .filter(|v| v.name.starts_with("valid/"))
        .map(|v| (v.spec.dialect, v.bytes))
        .collect();
    assert!(out.len() > 50, "only {} valid vectors", out.len());
    out
}

/// The codec's strict accept path may decline a valid message (the detailed walk then accepts it), but
/// whatever it accepts, the detailed walk accepts with the same offsets: it can never let an invalid
/// message in.
fn fast_path_agrees(bytes: &[u8], dialect: nsbootstrap_codec::Dialect) -> Result<(), String> {
    use nsbootstrap_codec::MessageView;
    match (
        MessageView::strict_accept_path(bytes, dialect),
        MessageView::strict_detailed_walk(bytes, dialect),
    ) {
        (Some(fast), Ok(slow)) if fast == slow => Ok(()),
        (Some(fast), slow) => Err(format!(
            "the accept path gave {fast:?} but the walk gives {slow:?}"
        )),
        (None, _) => Ok(()),
    }
}

fn the_fast_path_accepts_the_typical_vectors_and_agrees_on_all() {
    let mut fast = 0;
    for (d, bytes) in valid_vectors() {
        fast_path_agrees(&bytes, d).unwrap();
        fast +=
            usize::from(nsbootstrap_codec::MessageView::strict_accept_path(&bytes, d).is_some());
    }
    // Declining is only for the unusual (long id maps and the like): most vectors go the fast way.
    assert!(fast >= 60, "the fast path took only {fast} valid vectors");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(8192))]
    /// Valid vectors with a few bytes changed: wherever the accept path says yes, so does the walk.
        fn the_fast_path_never_accepts_what_the_walk_refuses(
        pick in 0usize..1000,
        edits in proptest::collection::vec((0usize..4096, proptest::prop_oneof![
            0u8..4,
            b'0'..=b'9',
            proptest::sample::select(b" \n\t,:/-+.".to_vec()),
            proptest::prelude::any::<u8>(),
        ]), 1..3),
    ) {
        use std::sync::OnceLock;
        static VALID: OnceLock<Vec<(nsbootstrap_codec::Dialect, Vec<u8>)>> = OnceLock::new();
        let vectors = VALID.get_or_init(valid_vectors);
        let (_, mut bytes) = vectors[pick % vectors.len()].clone();
        for (at, b) in edits {
            // Leave the header alone (so the walk is reached) unless the message is tiny.
            let i = 16 + at % bytes.len().saturating_sub(16).max(1);
            if let Some(x) = bytes.get_mut(i) {
                *x = b;
            }
        }
        for dialect in nsbootstrap_codec::Dialect::ALL {
            let agrees = fast_path_agrees(&bytes, dialect);
            proptest::prop_assert!(agrees.is_ok(), "{:?}", agrees);
        }
    }
}

fn the_suite_embeds_every_vector_of_the_spec() {
    // `vectors/` is a link to spec/vectors in the repository and a copy in the package: what the binary
    // carries is what the spec holds, byte for byte.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let on_disk = vectors::load(&dir).expect("vectors load");
    let embedded = vectors::embedded().expect("embedded vectors parse");
    assert!(on_disk.len() >= 60, "only {} vectors", on_disk.len());
    let names = |v: &[vectors::Vector]| v.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&embedded), names(&on_disk));
    for (e, d) in embedded.iter().zip(&on_disk) {
        assert_eq!(e.bytes, d.bytes, "{}", e.name);
        assert_eq!(e.spec.description, d.spec.description, "{}", e.name);
    }
}

fn the_one_line_expectations_say_what_the_json_files_say() {
    // spec/vectors/expectations.txt, read as a C test would: split at spaces, no JSON.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let text = std::fs::read_to_string(dir.join("expectations.txt")).expect("expectations.txt");
    let all = vectors::load(&dir).expect("vectors load");
    let mut lines = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f.len(), 5, "{line}");
        let v = all
            .iter()
            .find(|v| v.name == f[0])
            .unwrap_or_else(|| panic!("{line}: no such vector"));
        assert_eq!(v.spec.dialect.name(), f[1], "{line}");
        let want = match f[2] {
            "strict" => &v.spec.strict,
            "lenient" => &v.spec.lenient,
            other => panic!("{line}: mode {other}"),
        };
        match &want.error {
            None => assert_eq!((f[3], f[4]), ("ok", "-"), "{line}"),
            Some(e) => assert_eq!(
                (f[3], f[4]),
                (e.class.as_str(), e.offset.to_string().as_str()),
                "{line}"
            ),
        }
        lines += 1;
    }
    assert_eq!(lines, 2 * all.len(), "one line per vector and mode");
}

fn main() {
    // The vectors travel with the crate (`vectors/` is the spec's folder in the repository and a copy in the
    // package), so these run from the package too.
    testing::run_in(
        env!("CARGO_MANIFEST_DIR"),
        &[
            Test::new(
                "codec_agrees_with_every_vector",
                codec_agrees_with_every_vector,
            ),
            Test::new(
                "every_error_class_has_a_vector",
                every_error_class_has_a_vector,
            ),
            Test::new(
                "the_fast_path_accepts_the_typical_vectors_and_agrees_on_all",
                the_fast_path_accepts_the_typical_vectors_and_agrees_on_all,
            ),
            Test::new(
                "the_fast_path_never_accepts_what_the_walk_refuses",
                the_fast_path_never_accepts_what_the_walk_refuses,
            ),
            Test::new(
                "the_suite_embeds_every_vector_of_the_spec",
                the_suite_embeds_every_vector_of_the_spec,
            ),
            Test::new(
                "the_one_line_expectations_say_what_the_json_files_say",
                the_one_line_expectations_say_what_the_json_files_say,
            ),
        ],
    )
}
