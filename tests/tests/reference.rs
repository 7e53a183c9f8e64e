//! The spec's independent pieces, run from the Rust test suite so that one command runs everything: the
//! vector generator reproduces the checked-in vectors, and the Python reference decoder (written from the
//! spec text alone) agrees with every vector.

use nsbootstrap_conformance::testing::{self, Needs, Test};
use std::path::Path;
use std::process::Command;

fn python(script: &str, args: &[&str]) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("python3")
        .arg(root.join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 is needed for {script} (install Debian's python3): {e}")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn the_generator_reproduces_the_vectors() {
    let (ok, text) = python("spec/vectors/generate.py", &["--check"]);
    assert!(ok, "{text}");
    assert!(text.contains("match generate.py"), "{text}");
}

fn the_python_reference_decoder_agrees_with_every_vector() {
    let (ok, text) = python("spec/reference/check.py", &[]);
    assert!(ok, "{text}");
    let summary = text
        .lines()
        .rev()
        .find(|l| l.ends_with(" failed"))
        .unwrap_or_else(|| panic!("no summary line: {text}"));
    let passed: usize = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        passed >= 200,
        "{summary}: fewer checks than vectors x modes"
    );
    assert!(summary.ends_with(" 0 failed"), "{summary}");
}

fn main() {
    // The generator and the reference decoder live in spec/, which a packaged crate does not carry.
    testing::run_in(
        env!("CARGO_MANIFEST_DIR"),
        &[
            Test::new(
                "the_generator_reproduces_the_vectors",
                the_generator_reproduces_the_vectors,
            )
            .needs(Needs::Repository),
            Test::new(
                "the_python_reference_decoder_agrees_with_every_vector",
                the_python_reference_decoder_agrees_with_every_vector,
            )
            .needs(Needs::Repository),
        ],
    )
}
