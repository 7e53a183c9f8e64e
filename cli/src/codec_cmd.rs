//! `nsbootstrap encode`, `decode` and `explain`: the codec on the command line.

use nsbootstrap_codec::{BootstrapPlan, Dialect, MessageView, Mode};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::Path;

/// A command's failure: one line for stderr.
#[derive(Debug)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

impl From<nsbootstrap_codec::DecodeError> for CliError {
    fn from(e: nsbootstrap_codec::DecodeError) -> Self {
        CliError(e.to_string())
    }
}

impl From<nsbootstrap_codec::EncodeError> for CliError {
    fn from(e: nsbootstrap_codec::EncodeError) -> Self {
        CliError(e.to_string())
    }
}

/// The most a plan file (JSON) may hold: far above what the largest message's plan takes.
pub const MAX_PLAN_INPUT: u64 = 64 << 20;

/// The most a message file may hold: the protocol's largest message (spec section 4).
pub const MAX_MESSAGE_INPUT: u64 = nsbootstrap_codec::wire::MAX_MESSAGE_LEN as u64;

/// Reads a whole input of at most `limit` bytes: a file, or standard input for `-` or no path. At most
/// `limit + 1` bytes are ever read, so that a huge file or an endless stream (`/dev/zero`) costs nothing
/// beyond the limit: one byte more is refused with one line.
pub fn read_input(path: Option<&Path>, limit: u64) -> Result<Vec<u8>, CliError> {
    let name = || path.map_or("standard input".into(), |p| p.display().to_string());
    let mut buf = Vec::new();
    let mut source: Box<dyn Read> = match path {
        None => Box::new(std::io::stdin().lock()),
        Some(p) if p == Path::new("-") => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(
            std::fs::File::open(p).map_err(|e| CliError(format!("cannot read {}: {e}", name())))?,
        ),
    };
    source
        .by_ref()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| CliError(format!("cannot read {}: {e}", name())))?;
    if buf.len() as u64 > limit {
        return Err(CliError(format!(
            "{} is larger than {limit} bytes, the most this command reads: refused (a message is at most {MAX_MESSAGE_INPUT} bytes)",
            name()
        )));
    }
    Ok(buf)
}

/// The dialect to use: the flag, else the plan's own, else the default; a conflict is an error.
pub fn resolve_dialect(flag: Option<Dialect>, plan: Option<Dialect>) -> Result<Dialect, CliError> {
    match (flag, plan) {
        (Some(f), Some(p)) if f != p => Err(CliError(format!(
            "--dialect {f} contradicts the plan's \"dialect\": \"{p}\""
        ))),
        (Some(d), _) | (None, Some(d)) => Ok(d),
        (None, None) => Ok(Dialect::default()),
    }
}

/// `encode`: a JSON plan to the binary message; `inconsistent` lets a plan that breaks spec section 8 through.
pub fn encode(
    dialect: Option<Dialect>,
    input: &[u8],
    inconsistent: bool,
) -> Result<Vec<u8>, CliError> {
    let plan: BootstrapPlan = serde_json::from_slice(input)
        .map_err(|e| CliError(format!("the plan is not valid JSON of the plan shape: {e}")))?;
    let d = resolve_dialect(dialect, plan.dialect)?;
    if inconsistent {
        return Ok(plan.to_bytes_inconsistent(d)?);
    }
    Ok(plan.to_bytes(d)?)
}

/// `decode`: the binary message to JSON (which `encode` takes back) or to text.
pub fn decode(
    dialect: Option<Dialect>,
    mode: Mode,
    json: bool,
    input: &[u8],
) -> Result<String, CliError> {
    let d = dialect.unwrap_or_default();
    let view = MessageView::decode(input, d, mode)?;
    let mut plan = BootstrapPlan::from_view(&view);
    plan.dialect = Some(d);
    if json {
        let mut s = serde_json::to_string_pretty(&plan)
            .map_err(|e| CliError(format!("the plan cannot be written as JSON: {e}")))?;
        s.push('\n');
        return Ok(s);
    }
    Ok(describe(&plan, d, mode))
}

/// The human-readable form of a plan.
pub fn describe(plan: &BootstrapPlan, d: Dialect, mode: Mode) -> String {
    let mut s = String::new();
    let n = &plan.netlink;
    let _ = writeln!(s, "dialect          {d} ({mode:?})");
    let _ = writeln!(
        s,
        "netlink          flags={:#06x} seq={} pid={}",
        n.flags, n.seq, n.pid
    );
    let _ = writeln!(
        s,
        "create           {} ({:#010x})",
        plan.clone_flags,
        plan.clone_flags.bits()
    );
    for e in &plan.namespace_paths {
        let _ = writeln!(s, "join             {} {}", e.kind, e.path.display());
    }
    let path = |s: &mut String, name: &str, p: &Option<std::path::PathBuf>| {
        if let Some(p) = p {
            let _ = writeln!(s, "{name:<16} {}", p.display());
        }
    };
    path(&mut s, "newuidmap", &plan.newuidmap_path);
    for (name, map) in [("uid_map", &plan.uid_map), ("gid_map", &plan.gid_map)] {
        for r in map.iter().flatten() {
            let _ = writeln!(
                s,
                "{name:<16} inside {} outside {} count {}",
                r.container_id, r.host_id, r.size
            );
        }
    }
    path(&mut s, "newgidmap", &plan.newgidmap_path);
    if let Some(v) = plan.setgroups {
        let _ = writeln!(
            s,
            "setgroups        {}",
            if v { "allow" } else { "deny (false)" }
        );
    }
    if let Some(v) = plan.oom_score_adj {
        let _ = writeln!(s, "oom_score_adj    {v}");
    }
    if let Some(v) = plan.rootless_euid {
        let _ = writeln!(s, "rootless_euid    {v}");
    }
    for m in plan.mount_sources.iter().flatten() {
        match m {
            Some(p) => {
                let _ = writeln!(s, "mount_source     {}", p.display());
            }
            None => {
                let _ = writeln!(s, "mount_source     (none)");
            }
        }
    }
    for o in plan.time_offsets.iter().flatten() {
        let _ = writeln!(
            s,
            "time_offset      {} {}s {}ns",
            o.clock, o.secs, o.nanosecs
        );
    }
    path(&mut s, "console", &plan.console_path);
    s
}

/// `explain`: the annotated dump; `Err` carries the decoding error after the dump was written to `out`.
pub fn explain(
    dialect: Option<Dialect>,
    mode: Mode,
    input: &[u8],
    out: &mut impl Write,
) -> Result<(), CliError> {
    let (text, err) = nsbootstrap_codec::explain(input, dialect.unwrap_or_default(), mode);
    out.write_all(text.as_bytes())
        .map_err(|e| CliError(format!("cannot write the dump: {e}")))?;
    match err {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
