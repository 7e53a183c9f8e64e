//! Runs the codec over every vector in `spec/vectors/` (whole, and split at every byte boundary).

use nsbootstrap_conformance::vectors;
use std::path::Path;

#[test]
fn codec_agrees_with_every_vector() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
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

#[test]
fn every_error_class_has_a_vector() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
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
