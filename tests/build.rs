//! Embeds the spec's vectors (`vectors/`, a link to `spec/vectors` in the repository, a copy in the
//! package) so that the installed `nsbootstrap-conform` runs every scenario from any directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let dir =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("vectors");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut code =
        String::from("/// `(name, description JSON, message bytes)` of every vector, by name.\n");
    code.push_str("pub static EMBEDDED: &[(&str, &[u8], &[u8])] = &[\n");
    for group in ["valid", "invalid"] {
        let folder = dir.join(group);
        println!("cargo:rerun-if-changed={}", folder.display());
        let mut jsons: Vec<PathBuf> = match std::fs::read_dir(&folder) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect(),
            Err(e) => panic!(
                "{}: {e} (the vectors are embedded in the suite)",
                folder.display()
            ),
        };
        jsons.sort();
        for json in jsons {
            let bin = json.with_extension("bin");
            let stem = json
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 names");
            let _ = writeln!(
                code,
                "    ({:?}, include_bytes!({:?}), include_bytes!({:?})),",
                format!("{group}/{stem}"),
                json.canonicalize().expect("the vector's JSON"),
                bin.canonicalize().expect("the vector's bytes"),
            );
        }
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets it")).join("vectors.rs");
    std::fs::write(out, code).expect("write the embedded vectors");
}
