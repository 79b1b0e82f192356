//! Applying the unified diffs in `mlx-sys/patches/` to the mlx-c copy.

use std::fs;
use std::path::Path;

/// Applies one patch file. Lines before the first `--- ` are its comment
/// (why the patch exists). Each file it touches is patched in place; a file
/// that already has the patched content is left as it is.
pub(crate) fn apply_file(patch_file: &Path, tree: &Path) -> Result<(), String> {
    let text = fs::read_to_string(patch_file).map_err(|e| e.to_string())?;
    let body = text
        .find("\n--- ")
        .map(|i| &text[i + 1..])
        .ok_or("no `--- ` line: not a unified diff")?;
    // One section per file: split before each `--- ` header.
    let mut sections = Vec::new();
    let mut rest = body;
    while let Some(next) = rest[4..].find("\n--- ").map(|i| i + 5) {
        sections.push(&rest[..next]);
        rest = &rest[next..];
    }
    sections.push(rest);
    for section in sections {
        let patch = diffy::Patch::from_str(section).map_err(|e| e.to_string())?;
        let name = patch
            .modified()
            .or(patch.original())
            .ok_or("a section names no file")?;
        let rel = name
            .strip_prefix("b/")
            .or(name.strip_prefix("a/"))
            .unwrap_or(name);
        let path = tree.join(rel);
        let old = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        match diffy::apply(&old, &patch) {
            Ok(new) => fs::write(&path, new).map_err(|e| format!("{}: {e}", path.display()))?,
            // Already applied: the reverse patch fits.
            Err(_) if diffy::apply(&old, &patch.reverse()).is_ok() => {}
            Err(e) => return Err(format!("{rel}: {e}")),
        }
    }
    Ok(())
}
