//! The spec's test vectors (`spec/vectors/`, spec section 19) and a checker that runs a codec over them.

use nsbootstrap_codec::{BootstrapPlan, Dialect, MessageReader, MessageView, Mode};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What decoding a vector must give in one mode.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// The plan (JSON shape of spec section 18, with `"netlink"`, without `"dialect"`).
    #[serde(default)]
    pub plan: Option<serde_json::Value>,
    /// The error, when decoding must fail.
    #[serde(default)]
    pub error: Option<ExpectedError>,
}

/// An expected decoding error.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedError {
    /// The error class (spec Appendix A).
    pub class: String,
    /// The byte offset the spec assigns to it.
    pub offset: usize,
}

/// One vector's description file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorSpec {
    /// What the vector shows.
    pub description: String,
    /// The dialect to decode it in.
    pub dialect: Dialect,
    /// Valid vectors: whether encoding the decoded plan must give the same bytes.
    #[serde(default)]
    pub canonical: Option<bool>,
    /// Strict decoding.
    pub strict: Outcome,
    /// Lenient decoding.
    pub lenient: Outcome,
}

/// A vector: its name, bytes and description.
#[derive(Clone, Debug)]
pub struct Vector {
    /// `valid/NAME` or `invalid/NAME`.
    pub name: String,
    /// The message bytes.
    pub bytes: Vec<u8>,
    /// The description file.
    pub spec: VectorSpec,
}

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/vectors.rs"));
}

/// Every vector of the spec this crate was built with (embedded in it), sorted by name.
pub fn embedded() -> Result<Vec<Vector>, String> {
    embedded::EMBEDDED
        .iter()
        .map(|(name, json, bytes)| {
            let spec: VectorSpec =
                serde_json::from_slice(json).map_err(|e| format!("{name}: {e}"))?;
            Ok(Vector {
                name: (*name).to_string(),
                bytes: bytes.to_vec(),
                spec,
            })
        })
        .collect()
}

/// Loads every vector under `dir` (the `spec/vectors` folder), sorted by name.
pub fn load(dir: &Path) -> Result<Vec<Vector>, String> {
    let mut out = Vec::new();
    for group in ["valid", "invalid"] {
        let folder = dir.join(group);
        let entries =
            std::fs::read_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        for json in names {
            let bin = json.with_extension("bin");
            let text = std::fs::read(&json).map_err(|e| format!("{}: {e}", json.display()))?;
            let spec: VectorSpec =
                serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", json.display()))?;
            let bytes = std::fs::read(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
            let stem = json.file_stem().unwrap_or_default().to_string_lossy();
            out.push(Vector {
                name: format!("{group}/{stem}"),
                bytes,
                spec,
            });
        }
    }
    Ok(out)
}

fn plan_json(plan: &BootstrapPlan) -> serde_json::Value {
    let mut plan = plan.clone();
    plan.dialect = None;
    serde_json::to_value(plan).unwrap_or(serde_json::Value::Null)
}

/// The outcome of decoding `bytes` whole with this codec, in the vectors' terms.
pub fn decode_outcome(bytes: &[u8], d: Dialect, mode: Mode) -> Outcome {
    match MessageView::decode(bytes, d, mode) {
        Ok(v) => Outcome {
            plan: Some(plan_json(&BootstrapPlan::from_view(&v))),
            error: None,
        },
        Err(e) => Outcome {
            plan: None,
            error: Some(ExpectedError {
                class: e.class().to_string(),
                offset: e.offset(),
            }),
        },
    }
}

/// The outcome of feeding `bytes` to the stream reader in the given chunks, then ending the stream.
fn stream_outcome(bytes: &[u8], cuts: &[usize], d: Dialect, mode: Mode) -> Result<Outcome, String> {
    let mut r = MessageReader::new(d, mode);
    let mut pos = 0;
    let mut bounds: Vec<usize> = cuts.to_vec();
    bounds.push(bytes.len());
    for end in bounds {
        while pos < end && !r.is_complete() {
            match r.push(&bytes[pos..end]) {
                Ok(n) => pos += n,
                Err(e) => {
                    return Ok(Outcome {
                        plan: None,
                        error: Some(ExpectedError {
                            class: e.class().to_string(),
                            offset: e.offset(),
                        }),
                    })
                }
            }
        }
    }
    if !r.is_complete() {
        let e = r.eof_error();
        return Ok(Outcome {
            plan: None,
            error: Some(ExpectedError {
                class: e.class().to_string(),
                offset: e.offset(),
            }),
        });
    }
    if pos != bytes.len() {
        return Err(format!(
            "the reader stopped at {pos} of {} bytes",
            bytes.len()
        ));
    }
    let out = r.bytes().map(|b| decode_outcome(b, d, mode));
    out.ok_or_else(|| "complete reader without bytes".to_string())
}

/// Checks this crate's codec against one vector; returns every discrepancy found.
pub fn check(v: &Vector) -> Vec<String> {
    let mut fails = Vec::new();
    let d = v.spec.dialect;
    for (mode, want) in [
        (Mode::Strict, &v.spec.strict),
        (Mode::Lenient, &v.spec.lenient),
    ] {
        let got = decode_outcome(&v.bytes, d, mode);
        if &got != want {
            fails.push(format!("{mode:?}: expected {want:?}, got {got:?}"));
        }
    }
    let strict_ok = v.spec.strict.plan.is_some();
    if strict_ok {
        // Whatever strict accepts, lenient accepts as the same plan.
        if v.spec.lenient.plan != v.spec.strict.plan {
            fails.push(
                "the vector says lenient differs from strict on a strict-valid message".into(),
            );
        }
        if v.spec.canonical == Some(true) {
            // A canonical vector may break a rule of spec section 8 (decoding does not check them, and
            // `to_bytes` refuses them): such a plan is encoded with `to_bytes_inconsistent`.
            let encode = |p: &BootstrapPlan| match p.check() {
                Ok(()) => p.to_bytes(d),
                Err(_) => p.to_bytes_inconsistent(d),
            };
            let again = BootstrapPlan::decode(&v.bytes, d)
                .map_err(|e| e.to_string())
                .and_then(|p| encode(&p).map_err(|e| e.to_string()));
            match again {
                Ok(b) if b == v.bytes => {}
                Ok(_) => fails.push("decode then encode changed the bytes".into()),
                Err(e) => fails.push(format!("decode then encode failed: {e}")),
            }
            let from_json = v
                .spec
                .strict
                .plan
                .clone()
                .map(serde_json::from_value::<BootstrapPlan>);
            match from_json {
                Some(Ok(p)) => match encode(&p) {
                    Ok(b) if b == v.bytes => {}
                    Ok(_) => fails.push("encoding the vector's JSON plan gave other bytes".into()),
                    Err(e) => fails.push(format!("encoding the vector's JSON plan failed: {e}")),
                },
                Some(Err(e)) => fails.push(format!("the vector's JSON plan does not parse: {e}")),
                None => {}
            }
        }
    }
    // Stream property: a split at every byte boundary, and byte by byte, gives what whole decoding gives —
    // for the vectors whose buffer is exactly one declared message (the others test whole-buffer checks).
    let declared = v
        .bytes
        .get(0..4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if declared == Some(v.bytes.len()) {
        for mode in [Mode::Strict, Mode::Lenient] {
            let whole = decode_outcome(&v.bytes, d, mode);
            // Every boundary of small vectors; for large ones, every boundary near the ends (the header
            // and the first and last attributes) and every 61st in between.
            let len = v.bytes.len();
            let mut cut_sets: Vec<Vec<usize>> = (0..=len)
                .filter(|&k| len <= 1024 || k < 96 || k + 96 > len || k % 61 == 0)
                .map(|k| vec![k])
                .collect();
            cut_sets.push((1..v.bytes.len()).collect());
            for cuts in cut_sets {
                match stream_outcome(&v.bytes, &cuts, d, mode) {
                    Ok(o) if o == whole => {}
                    Ok(o) => {
                        fails.push(format!(
                            "{mode:?}: stream split at {:?} gave {o:?}, whole gave {whole:?}",
                            &cuts[..cuts.len().min(3)]
                        ));
                        break;
                    }
                    Err(e) => {
                        fails.push(format!("{mode:?}: {e}"));
                        break;
                    }
                }
            }
        }
    }
    fails
}
