//! Differential fuzzing of another implementation's parser against ours (the `diff_*` targets).
//!
//! Per input, three opinions:
//! * **theirs**: the C parser compiled in by `fuzz/build.rs` ([`ffi`]), accept (with the decoded fields)
//!   or refuse; a crash (AddressSanitizer) or a hang (libFuzzer `-timeout`) ends the process and is
//!   classified afterwards by `fuzz/differential/run.sh` with [`classify`];
//! * **the model** ([`model`]): runc's parser as spec section 20 describes it, departures R1..R9 included;
//! * **ours** ([`oracle`]): the codec's strict and lenient decoders in the same dialect.
//!
//! Theirs against the model finds what section 20 does not say (a **new** finding: the harness panics,
//! libFuzzer saves the input); the model against ours names the departure that explains each difference
//! (a **known** finding: counted, its first input saved, never reported again). A finding's key is its
//! departure id (`R3`), `§5:<class>` / `§6:<class>` for differences the spec itself allows (texts that
//! runc leaves to its later stages or the kernel; what only strict decoding refuses), or `NEW:<what>`.
//!
//! Environment, read once per process:
//! * `NSB_DIFF_DIALECT` (default `runc-1.1`): the dialect of our decoders and of the model;
//! * `NSB_DIFF_SEEN=R1,R3,NEW:x`: findings already reported: inputs the model says fault that way are not
//!   given to their parser (so the run goes on past them), new ones with these keys are counted only;
//! * `NSB_DIFF_OUT=DIR`: where the first input of each finding seen in-process is written (`first-<key>`);
//! * `NSB_DIFF_CRASH_ON=KEY`: panic on that finding, known or not (for `cargo fuzz tmin`);
//! * `NSB_DIFF_CLASSIFY=1`: print the classification of each input and never panic (used on artifacts).

pub mod ffi;
pub mod model;
pub mod mutate;
pub mod oracle;
pub mod shrink;

use model::{FaultKind, Model, Predicted};
use nsbootstrap_codec::Dialect;
use oracle::{OurError, Ours};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

pub use ffi::{their_name, their_parse, TheirResult, ASAN};

/// One observation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// `R3`, `§6:repeated-attr`, `NEW:accepts-embedded-nul`.
    pub key: String,
    /// What was seen.
    pub what: String,
}

impl Finding {
    fn new(key: impl Into<String>, what: impl Into<String>) -> Self {
        Finding {
            key: key.into(),
            what: what.into(),
        }
    }

    /// Whether the key names no departure of spec section 20 and no allowance of the spec.
    pub fn is_new(&self) -> bool {
        self.key.starts_with("NEW:")
    }
}

/// The verdict on one input.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// Explained differences.
    pub known: Vec<Finding>,
    /// A difference nothing explains (the first one).
    pub new: Option<Finding>,
}

fn text_name(slot: usize) -> &'static str {
    [
        "namespace paths",
        "uid map",
        "gid map",
        "oom_score_adj",
        "newuidmap path",
        "newgidmap path",
        "attribute 27290",
    ][slot]
}

/// Theirs against the model: `None` when they agree.
pub fn against_model(model: &Model, theirs: &TheirResult, sanitized: bool) -> Option<Finding> {
    match &model.predicted {
        Predicted::Fault { id, kind, what, .. } => match kind {
            FaultKind::OutOfBounds if sanitized => Some(Finding::new(
                "NEW:no-fault",
                format!(
                    "the model of {id} predicts an out-of-bounds read ({what}), but their parser returned ({})",
                    if theirs.status == 0 { "accepted" } else { "refused" }
                ),
            )),
            _ => None,
        },
        Predicted::Refuse(why) => (theirs.status == 0).then(|| {
            Finding::new(
                "NEW:accepts",
                format!("their parser accepts an input the model refuses ({why})"),
            )
        }),
        Predicted::Accept(want) => {
            if theirs.status != 0 {
                return Some(Finding::new(
                    "NEW:refuses",
                    format!(
                        "their parser refuses ({}) an input the model accepts",
                        theirs.message()
                    ),
                ));
            }
            let mut diffs = Vec::new();
            if want.clone_flags != theirs.clone_flags {
                diffs.push(format!(
                    "clone flags 0x{:08x}, model 0x{:08x}",
                    theirs.clone_flags, want.clone_flags
                ));
            }
            if want.setgroups != theirs.setgroups {
                diffs.push(format!("setgroups {}, model {}", theirs.setgroups, want.setgroups));
            }
            if want.rootless_euid != theirs.rootless_euid {
                diffs.push(format!(
                    "rootless_euid {}, model {}",
                    theirs.rootless_euid, want.rootless_euid
                ));
            }
            let pairs = [
                (&want.ns_paths, &theirs.ns_paths),
                (&want.uid_map, &theirs.uid_map),
                (&want.gid_map, &theirs.gid_map),
                (&want.oom_score_adj, &theirs.oom_score_adj),
                (&want.uidmap_path, &theirs.uidmap_path),
                (&want.gidmap_path, &theirs.gidmap_path),
                (&want.attr27290, &theirs.attr27290),
            ];
            for (slot, (w, t)) in pairs.into_iter().enumerate() {
                if w != t {
                    diffs.push(format!("{}: {t:?}, model {w:?}", text_name(slot)));
                }
            }
            (!diffs.is_empty()).then(|| {
                Finding::new(
                    "NEW:other-values",
                    format!("their parser decodes other values: {}", diffs.join("; ")),
                )
            })
        }
    }
}

/// The departures that can make a runc-like walk accept what our lenient decoder refuses with `class`,
/// or the spec section that leaves the check to later stages.
fn lenient_explanations(class: &str) -> &'static [&'static str] {
    match class {
        "attr-too-short" => &["R2"],
        "attr-past-end" | "attr-header-truncated" => &["R3", "R2"],
        "payload-length" => &["R5", "R4", "R2", "R3"],
        "missing-nul" => &["R4", "R3", "R2"],
        "length-too-short" | "length-too-large" => &["R8"],
        "repeated-attr" => &["R9"],
        _ => &[],
    }
}

/// Classes our decoders check in a text that runc's parser hands on unread: its later stages or the
/// kernel decide (spec section 5's grammars). With the departure that describes runc's handling, if any.
fn deferred_text_class(class: &str) -> Option<&'static str> {
    Some(match class {
        "unknown-ns-type" | "ns-type-not-in-dialect" => "R10",
        "bad-oom-score-adj" => "R11",
        "bad-id-map" | "id-map-overlap" | "id-map-too-long" | "bad-ns-entry" | "relative-path"
        | "path-too-long" | "empty-payload" | "bad-mount-sources" | "bad-time-offsets"
        | "repeated-ns-type" => "",
        _ => return None,
    })
}

/// What only strict decoding refuses (lenient accepted): the departure that describes runc's acceptance,
/// or none (an allowance of spec section 6).
fn strict_only(class: &str) -> &'static str {
    match class {
        "repeated-attr" => "R9",
        "unknown-clone-flags" => "R12",
        "bad-bool" => "R6",
        _ => "",
    }
}

/// The model against our decoders: every difference, explained or not.
pub fn against_ours(
    model: &Model,
    lenient: &Result<Ours, OurError>,
    strict: &Result<Ours, OurError>,
) -> Verdict {
    let mut v = Verdict::default();
    match &model.predicted {
        Predicted::Fault { id, kind, what, .. } => {
            v.known
                .push(Finding::new(*id, format!("{}: {what}", kind.name())));
        }
        Predicted::Refuse(why) => {
            if let Ok(_ours) = lenient {
                v.new = Some(Finding::new(
                    "NEW:refuses-valid",
                    format!("they refuse ({why}) a message the spec accepts (lenient)"),
                ));
            }
        }
        Predicted::Accept(theirs) => match lenient {
            Err(e) => {
                let ids = lenient_explanations(e.class);
                // The departure at the attribute our decoder refused, else any on the way.
                let at_offset = model
                    .events
                    .iter()
                    .find(|ev| ids.contains(&ev.id) && Some(ev.offset) == e.offset);
                if let Some(ev) =
                    at_offset.or_else(|| model.events.iter().find(|ev| ids.contains(&ev.id)))
                {
                    v.known.push(Finding::new(
                        ev.id,
                        format!(
                            "they accept what the spec refuses ({}): {}",
                            e.class, ev.what
                        ),
                    ));
                } else if let Some(id) = deferred_text_class(e.class) {
                    let key = if id.is_empty() {
                        format!("§5:{}", e.class)
                    } else {
                        id.to_string()
                    };
                    v.known.push(Finding::new(
                        key,
                        format!(
                            "a text the spec refuses ({}) is handed on unchecked by their parser",
                            e.message
                        ),
                    ));
                } else {
                    v.new = Some(Finding::new(
                        format!("NEW:accepts-{}", e.class),
                        format!(
                            "they accept what the spec refuses even leniently: {} (no departure of section 20 explains it)",
                            e.message
                        ),
                    ));
                }
            }
            Ok(ours) => {
                let mut diffs: Vec<(Option<&'static str>, String)> = Vec::new();
                if ours.clone_flags != theirs.clone_flags {
                    diffs.push((
                        None,
                        format!(
                            "clone flags 0x{:08x}, spec 0x{:08x}",
                            theirs.clone_flags, ours.clone_flags
                        ),
                    ));
                }
                for (name, t, o) in [
                    ("setgroups", theirs.setgroups, ours.setgroups),
                    ("rootless_euid", theirs.rootless_euid, ours.rootless_euid),
                ] {
                    if (t != 0) != o.unwrap_or(false) {
                        let id = model.has("R6").then_some("R6");
                        diffs.push((id, format!("{name} {t}, spec {o:?}")));
                    }
                }
                let their_texts = [
                    theirs.ns_paths,
                    theirs.uid_map,
                    theirs.gid_map,
                    theirs.oom_score_adj,
                    theirs.uidmap_path,
                    theirs.gidmap_path,
                    theirs.attr27290,
                ];
                for (slot, (t, o)) in their_texts.iter().zip(ours.texts.iter()).enumerate() {
                    let name = text_name(slot);
                    match (t.present != 0, o) {
                        (false, None) => {}
                        (true, Some(o)) => {
                            if t.offset + 16 != o.payload_offset as i64 {
                                diffs.push((
                                    None,
                                    format!(
                                        "{name} at payload offset {}, spec {}",
                                        t.offset + 16,
                                        o.payload_offset
                                    ),
                                ));
                            } else if t.c_len >= 0 && t.c_len as usize != o.payload.len() {
                                diffs.push((
                                    model.has("R4").then_some("R4"),
                                    format!(
                                        "{name} is {} bytes as a C string, spec {}",
                                        t.c_len,
                                        o.payload.len()
                                    ),
                                ));
                            } else if t.len != o.payload.len() as u64 + 1 {
                                diffs.push((
                                    None,
                                    format!(
                                        "{name} has length {}, spec {} + NUL",
                                        t.len,
                                        o.payload.len()
                                    ),
                                ));
                            }
                        }
                        (tp, _) => diffs.push((
                            None,
                            format!("{name} present: theirs {tp}, spec {}", o.is_some()),
                        )),
                    }
                }
                for (id, what) in diffs {
                    match id {
                        Some(id) => v
                            .known
                            .push(Finding::new(id, format!("other values: {what}"))),
                        None if v.new.is_none() => {
                            v.new = Some(Finding::new(
                                "NEW:other-values",
                                format!("they decode other values than the spec: {what}"),
                            ))
                        }
                        None => {}
                    }
                }
                if let Err(e) = strict {
                    let id = strict_only(e.class);
                    let key = if id.is_empty() {
                        format!("§6:{}", e.class)
                    } else {
                        id.to_string()
                    };
                    v.known.push(Finding::new(
                        key,
                        format!(
                            "accepted by them and by lenient decoding, refused strictly: {}",
                            e.message
                        ),
                    ));
                }
                // Departures on the way that left no difference (e.g. R9 with equal values) still count.
                for ev in &model.events {
                    if matches!(ev.id, "R9" | "R5" | "R2" | "R3" | "R8")
                        && !v.known.iter().any(|f| f.key == ev.id)
                    {
                        v.known.push(Finding::new(ev.id, ev.what.clone()));
                    }
                }
            }
        },
    }
    v
}

/// The whole verdict for one input, given their result (or `None` when their parser was not run).
pub fn judge(
    bytes: &[u8],
    dialect: Dialect,
    model: &Model,
    theirs: Option<&TheirResult>,
) -> Verdict {
    let lenient = oracle::decode(bytes, dialect, true);
    let strict = oracle::decode(bytes, dialect, false);
    let mut v = against_ours(model, &lenient, &strict);
    if let Some(t) = theirs {
        if let Some(f) = against_model(model, t, ASAN) {
            v.new = Some(f);
        }
    }
    v
}

struct State {
    dialect: Dialect,
    seen: BTreeSet<String>,
    crash_on: Option<String>,
    crash_on_fault: bool,
    classify: bool,
    out: Option<std::path::PathBuf>,
    start: Instant,
    execs: u64,
    counts: BTreeMap<String, u64>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn state_init() -> State {
    let name = std::env::var("NSB_DIFF_DIALECT").unwrap_or_else(|_| "runc-1.1".into());
    let dialect = oracle::dialect(&name).unwrap_or_else(|| {
        eprintln!("NSB_DIFF_DIALECT={name}: not a dialect");
        std::process::exit(2)
    });
    let seen = std::env::var("NSB_DIFF_SEEN")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let classify = std::env::var_os("NSB_DIFF_CLASSIFY").is_some();
    if their_name().is_none() && !classify {
        eprintln!(
            "nsbootstrap differential target: no implementation was named at build time.\n\
             Build with NSB_DIFF_NSEXEC=/path/to/nsexec.c (runc's parser, any generation) or\n\
             NSB_DIFF_GLUE=/path/to/glue.c (see docs/differential-fuzzing.md), e.g.:\n  \
             fuzz/differential/run.sh 60"
        );
        std::process::exit(2);
    }
    eprintln!(
        "NSB-DIFF implementation: {}, dialect {}, sanitizer: {}",
        their_name().unwrap_or_else(|| "(none)".into()),
        oracle::dialect_name(dialect),
        if ASAN { "address" } else { "none" }
    );
    State {
        dialect,
        seen,
        crash_on: std::env::var("NSB_DIFF_CRASH_ON")
            .ok()
            .filter(|s| !s.is_empty()),
        crash_on_fault: std::env::var_os("NSB_DIFF_CRASH_ON_FAULT").is_some_and(|v| !v.is_empty()),
        classify,
        out: std::env::var_os("NSB_DIFF_OUT").map(Into::into),
        start: Instant::now(),
        execs: 0,
        counts: BTreeMap::new(),
    }
}

fn file_key(key: &str) -> String {
    // Byte by byte, as `tr -c 'A-Za-z0-9-' _` in run.sh does ('§' is two bytes).
    key.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                char::from(b)
            } else {
                '_'
            }
        })
        .collect()
}

impl State {
    fn note(&mut self, f: &Finding, bytes: &[u8]) {
        let n = self.counts.entry(f.key.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            let t = self.start.elapsed().as_secs_f64();
            eprintln!(
                "NSB-DIFF first {} after {t:.3}s exec {}: {}",
                f.key, self.execs, f.what
            );
            if let Some(dir) = &self.out {
                let path = dir.join(format!("first-{}", file_key(&f.key)));
                if !path.exists() {
                    let _ = std::fs::create_dir_all(dir);
                    let _ = std::fs::write(path, bytes);
                }
            }
        }
    }
}

/// Runs one input through the three opinions (the body of every `diff_*` target).
pub fn run_one(bytes: &[u8]) {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let st = guard.get_or_insert_with(state_init);
    st.execs += 1;
    let dialect = st.dialect;
    let model = model::predict(bytes, oracle::generation(dialect), ASAN);

    if let Some(key) = std::env::var("NSB_DIFF_SHRINK")
        .ok()
        .filter(|k| !k.is_empty())
    {
        let fault_only = st.crash_on_fault;
        let generation = oracle::generation(dialect);
        let mut keep = |b: &[u8]| {
            let m = model::predict(b, generation, ASAN);
            if let Predicted::Fault { id, .. } = &m.predicted {
                return *id == key;
            }
            if fault_only {
                return false;
            }
            let theirs = their_parse(b);
            let v = judge(b, dialect, &m, theirs.as_ref());
            v.known.iter().chain(v.new.iter()).any(|f| f.key == key)
        };
        if keep(bytes) {
            let small = shrink::shrink(bytes, &mut keep);
            eprintln!(
                "NSB-DIFF-SHRINK {key}: {} -> {} bytes",
                bytes.len(),
                small.len()
            );
            if let Some(out) = std::env::var_os("NSB_DIFF_SHRINK_OUT") {
                let _ = std::fs::write(out, &small);
            }
        } else {
            eprintln!("NSB-DIFF-SHRINK {key}: the input does not show it");
        }
        return;
    }
    if st.classify {
        // The message itself (diff_plan builds it from the fuzzer's input) and our decoders' outcomes
        // first: the verdict may crash their parser.
        if let Some(path) = std::env::var_os("NSB_DIFF_SAVE_MESSAGE") {
            let _ = std::fs::write(path, bytes);
        }
        for (mode, lenient) in [("strict", false), ("lenient", true)] {
            match oracle::decode(bytes, dialect, lenient) {
                Ok(_) => println!("NSB-DIFF-OURS {mode} ok"),
                Err(e) => println!(
                    "NSB-DIFF-OURS {mode} error {} {}",
                    e.class,
                    e.offset.map_or("-".to_string(), |o| o.to_string())
                ),
            }
        }
        let _ = std::io::stdout().flush();
        let v = classify(bytes, dialect, &model);
        println!("{v}");
        let _ = std::io::stdout().flush();
        return;
    }

    // A fault already reported: do not run their parser into it again.
    let skip = match &model.predicted {
        Predicted::Fault { id, .. } => st.seen.contains(*id),
        _ => false,
    };
    let theirs = if skip { None } else { their_parse(bytes) };
    let v = judge(bytes, dialect, &model, theirs.as_ref());
    let is_fault = matches!(model.predicted, Predicted::Fault { .. });
    for f in &v.known {
        st.note(f, bytes);
        if st.crash_on.as_deref() == Some(f.key.as_str()) && (is_fault || !st.crash_on_fault) {
            panic!("NSB-DIFF crash-on {}: {}", f.key, f.what);
        }
    }
    if let Some(f) = &v.new {
        if st.seen.contains(&f.key) && st.crash_on.as_deref() != Some(f.key.as_str()) {
            st.note(f, bytes);
        } else {
            drop(guard);
            panic!("NSB-DIFF NEW finding {}: {}", f.key, f.what);
        }
    }
}

/// One line for an input (no panic, and their parser is run only when the model predicts no fault):
/// `NSB-DIFF-CLASSIFY <key> <kind> @<offset>: <what>`, where kind is hang / out-of-bounds read / huge
/// allocation / disagreement / agree. `run.sh` runs this on every artifact.
pub fn classify(bytes: &[u8], dialect: Dialect, model: &Model) -> String {
    match &model.predicted {
        Predicted::Fault {
            id,
            kind,
            offset,
            what,
        } => format!("NSB-DIFF-CLASSIFY {id} {} @{offset}: {what}", kind.name()),
        _ => {
            let theirs = their_parse(bytes);
            let v = judge(bytes, dialect, model, theirs.as_ref());
            if let Some(f) = v.new {
                format!("NSB-DIFF-CLASSIFY {} disagreement: {}", f.key, f.what)
            } else if let Some(f) = v.known.first() {
                format!("NSB-DIFF-CLASSIFY {} disagreement: {}", f.key, f.what)
            } else {
                "NSB-DIFF-CLASSIFY agree".to_string()
            }
        }
    }
}
