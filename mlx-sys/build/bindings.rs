//! Generating the raw bindings with bindgen, over the exact mlx-c headers
//! that were compiled plus the shim header.

use std::path::Path;

use crate::fail::Failure;

/// The mlx-c 0.7.0 functions that take or return a multi-field struct by
/// value. They are left out of the raw bindings; `shims/mlxs.h` wraps each
/// as `mlxs_<name without mlx_>`. mlx-sys's tests check this list against
/// the headers, so a new one in an mlx-c upgrade cannot slip through.
pub(crate) const BY_VALUE: [&str; 22] = include!("by_value.in");

/// Writes `bindings.rs` (what mlx-sys exposes) and `mlx_c_unfiltered.rs`
/// (every mlx-c function, for the tests that check the shim list) to
/// `out_dir`.
pub(crate) fn generate(mlx_c: &Path, shims: &Path, out_dir: &Path) -> Result<(), Failure> {
    let wrapper = out_dir.join("mlx_sys_wrapper.h");
    std::fs::write(&wrapper, "#include \"mlx/c/mlx.h\"\n#include \"mlxs.h\"\n")
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", wrapper.display())))?;
    let base = || {
        bindgen::Builder::default()
            .header(wrapper.to_string_lossy())
            .clang_arg(format!("-I{}", mlx_c.display()))
            .clang_arg(format!("-I{}", shims.display()))
            .allowlist_function("_?mlxs?_.*")
            .allowlist_type("mlxs?_.*")
            .prepend_enum_name(false)
            .derive_default(true)
            .derive_debug(true)
            .derive_copy(true)
            .layout_tests(true)
            .merge_extern_blocks(true)
            // The headers are copies in OUT_DIR, rewritten only when their source
            // changes (tracked in mlx_c.rs), so no rerun-if-changed on them here.
            .parse_callbacks(Box::new(
                bindgen::CargoCallbacks::new().rerun_on_header_files(false),
            ))
    };
    let filtered = BY_VALUE.iter().fold(base(), |b, f| b.blocklist_function(f));
    write(filtered, &out_dir.join("bindings.rs"))?;
    write(base(), &out_dir.join("mlx_c_unfiltered.rs"))
}

fn write(builder: bindgen::Builder, path: &Path) -> Result<(), Failure> {
    // bindgen panics when it cannot load libclang; turn that into a fix-it
    // (with the default panic message silenced: the fix-it says it all).
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let generated =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || builder.generate()));
    std::panic::set_hook(hook);
    let generated = generated.map_err(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Failure::missing_tool(
            format!("bindgen could not run libclang: {msg}"),
            "sudo apt-get install libclang-dev",
            "xcode-select --install (or `brew install llvm`)",
        )
        .fix("or set LIBCLANG_PATH to the folder holding libclang.so / libclang.dylib")
    })?;
    let bindings =
        generated.map_err(|e| Failure::new(format!("bindgen failed on the mlx-c headers: {e}")))?;
    bindings
        .write_to_file(path)
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))
}
