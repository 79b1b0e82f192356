//! Compile-fail cases: every misuse of `#[derive(Module)]` is a compile
//! error with a message that says what to do (expected output in
//! `tests/ui/*.stderr`; regenerate with `TRYBUILD=overwrite`).

#[test]
fn misuse_is_rejected() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
