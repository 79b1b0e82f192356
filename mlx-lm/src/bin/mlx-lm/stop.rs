//! Stop strings over streamed text: text that may be the start of a stop
//! string is held back until it is known not to be one.

/// The stop strings and the text held back.
#[derive(Debug, Default)]
pub struct StopText {
    stops: Vec<String>,
    pending: String,
}

impl StopText {
    /// Matches `stops` (empty strings are ignored).
    pub fn new(stops: Vec<String>) -> Self {
        StopText {
            stops: stops.into_iter().filter(|s| !s.is_empty()).collect(),
            pending: String::new(),
        }
    }

    /// Adds `text`; returns the text that can be sent on, and whether a
    /// stop string was found (the text before it is sent, not the rest).
    pub fn push(&mut self, text: &str) -> (String, bool) {
        self.pending.push_str(text);
        let first = self
            .stops
            .iter()
            .filter_map(|s| self.pending.find(s.as_str()))
            .min();
        if let Some(at) = first {
            let out = self.pending[..at].to_owned();
            self.pending.clear();
            return (out, true);
        }
        // Hold back the longest tail that begins a stop string.
        let mut keep = 0;
        for s in &self.stops {
            for (i, _) in s.char_indices().skip(1) {
                if i > keep && self.pending.ends_with(&s[..i]) {
                    keep = i;
                }
            }
        }
        let cut = self.pending.len() - keep;
        let out = self.pending[..cut].to_owned();
        self.pending.drain(..cut);
        (out, false)
    }

    /// The text still held back (generation ended without a stop string).
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::StopText;

    #[test]
    fn holds_back_prefixes_and_cuts_at_the_stop() {
        let mut s = StopText::new(vec!["END".into(), "\n\n".into()]);
        assert_eq!(s.push("hello E"), ("hello ".into(), false));
        assert_eq!(s.push("N"), (String::new(), false));
        assert_eq!(s.push("x"), ("ENx".into(), false));
        assert_eq!(s.push(" a\n"), (" a".into(), false));
        assert_eq!(s.push("\nrest"), (String::new(), true));
        let mut s = StopText::new(vec!["END".into()]);
        assert_eq!(s.push("abEN"), ("ab".into(), false));
        assert_eq!(s.finish(), "EN");
        let mut s = StopText::new(vec![]);
        assert_eq!(s.push("abc"), ("abc".into(), false));
    }
}
