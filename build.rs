//! Compiles `po/*.po` into `.mo` catalogues in OUT_DIR and lists them for `include_bytes!`.

#[path = "src/i18n/po.rs"]
mod po;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=po");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut languages: Vec<(String, PathBuf)> = std::fs::read_dir("po")
        .expect("the po/ directory exists")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "po"))
        .filter_map(|path| Some((path.file_stem()?.to_str()?.to_owned(), path)))
        .collect();
    languages.sort();
    let mut listing = String::from(
        "/// Catalogues compiled from `po/` at build time: (language, `.mo` bytes).\npub static EMBEDDED: &[(&str, &[u8])] = &[\n",
    );
    for (lang, po_path) in &languages {
        println!("cargo:rerun-if-changed={}", po_path.display());
        let mo_path = out_dir.join(format!("{lang}.mo"));
        if let Err(err) = po::compile(po_path, &mo_path) {
            panic!("cannot compile {}: {err}", po_path.display());
        }
        writeln!(
            listing,
            "    ({lang:?}, include_bytes!({:?})),",
            path_str(&mo_path)
        )
        .expect("writing to a String");
    }
    listing.push_str("];\n");
    std::fs::write(out_dir.join("catalogs.rs"), listing).expect("OUT_DIR is writable");
}

fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
