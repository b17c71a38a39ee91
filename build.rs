//! Compiles `po/*.po` into `.mo` catalogues in OUT_DIR and lists them for `include_bytes!`;
//! compresses every embedded asset with brotli and gzip beside them.

#[path = "src/web/compress.rs"]
mod compress;
#[path = "src/i18n/po.rs"]
mod po;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    compile_catalogs(&out_dir);
    compress_assets(&out_dir);
}

/// `assets/*` (what `web::assets` embeds: not `*.md`, not `*.LICENSE`) compressed into
/// `OUT_DIR/compressed/`, listed in `compressed_assets.rs` as `web::assets::Compressed` values, each form
/// only where it saves a tenth.
fn compress_assets(out_dir: &Path) {
    println!("cargo:rerun-if-changed=assets");
    let dir = out_dir.join("compressed");
    std::fs::create_dir_all(&dir).expect("OUT_DIR is writable");
    let mut names: Vec<String> = std::fs::read_dir("assets")
        .expect("the assets/ directory exists")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| !name.ends_with(".md") && !name.ends_with(".LICENSE"))
        .collect();
    names.sort();
    let mut listing = String::from(
        "/// Embedded assets compressed at build time.\npub static COMPRESSED: &[super::Compressed] = &[\n",
    );
    for name in &names {
        let original = std::fs::read(Path::new("assets").join(name)).expect("an asset is readable");
        let mut forms = Vec::new();
        for (suffix, compressed) in [
            ("br", compress::brotli(&original)),
            ("gz", compress::gzip(&original)),
        ] {
            if compress::worth_it(original.len(), compressed.len()) {
                let path = dir.join(format!("{name}.{suffix}"));
                std::fs::write(&path, compressed).expect("OUT_DIR is writable");
                forms.push(format!("Some(include_bytes!({:?}))", path_str(&path)));
            } else {
                forms.push("None".to_owned());
            }
        }
        writeln!(
            listing,
            "    super::Compressed {{ name: {name:?}, brotli: {}, gzip: {} }},",
            forms[0], forms[1]
        )
        .expect("writing to a String");
    }
    listing.push_str("];\n");
    std::fs::write(out_dir.join("compressed_assets.rs"), listing).expect("OUT_DIR is writable");
}

fn compile_catalogs(out_dir: &Path) {
    println!("cargo:rerun-if-changed=po");
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
