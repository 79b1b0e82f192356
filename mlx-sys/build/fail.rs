//! Build failures that say what to do.

use std::fmt;

/// What went wrong and how to fix it. Printed by `main` before exiting.
#[derive(Debug)]
pub(crate) struct Failure {
    what: String,
    fixes: Vec<String>,
}

impl Failure {
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Failure {
            what: what.into(),
            fixes: Vec::new(),
        }
    }

    pub(crate) fn fix(mut self, how: impl Into<String>) -> Self {
        self.fixes.push(how.into());
        self
    }

    /// A missing tool, with its install commands on Debian/Ubuntu and macOS.
    pub(crate) fn missing_tool(what: impl Into<String>, debian: &str, macos: &str) -> Self {
        Failure::new(what)
            .fix(format!("Debian/Ubuntu: {debian}"))
            .fix(format!("macOS: {macos}"))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mlx-sys could not be built: {}", self.what)?;
        if !self.fixes.is_empty() {
            writeln!(f, "\nTo fix it:")?;
            for fix in &self.fixes {
                writeln!(f, "  - {fix}")?;
            }
        }
        write!(
            f,
            "\nThe discovery order and every variable are described in mlx-sys/README.md."
        )
    }
}
