//! Fingerprints the matching engine's source for [`ENGINE_VERSION`] (`src/engine/mod.rs`),
//! the version every result and answer cache key carries: a build whose engine code
//! differs must not serve results cached by another. A hand-bumped constant was never
//! bumped; a hash of the sources cannot be forgotten.

use std::path::Path;

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let root = Path::new("src/engine");
    println!("cargo:rerun-if-changed=src/engine");
    let mut paths = Vec::new();
    files(root, &mut paths);
    paths.sort();
    // FNV-1a, 64 bits: a fingerprint of change, not a defence against anyone
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for p in &paths {
        eat(p.to_string_lossy().as_bytes());
        eat(&std::fs::read(p).unwrap_or_default());
    }
    println!("cargo:rustc-env=KCMF_ENGINE_HASH={h:016x}");
}
