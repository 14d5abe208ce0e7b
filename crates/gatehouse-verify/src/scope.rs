//! Scopes as a set (RFC 6749 §3.3: a space-delimited list of case-sensitive strings).
//!
//! A resource server asks "does this token carry scope X?" — a set lookup. Substring checks
//! (`scope.contains("read")`) accept `files:readwrite` for `read` and `unread` for `read`; this
//! type offers no way to do that.

use std::collections::BTreeSet;
use std::fmt;

/// The scopes a credential carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<String>);

impl ScopeSet {
    /// Splits a `scope` value on spaces (RFC 6749 §3.3); empty items are ignored.
    pub fn parse(s: &str) -> Self {
        Self(
            s.split(' ')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Whether the set holds exactly this scope token.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of the space-delimited `required` is held.
    pub fn contains_all(&self, required: &str) -> bool {
        required
            .split(' ')
            .filter(|t| !t.is_empty())
            .all(|t| self.0.contains(t))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_matched_whole_never_as_substrings() {
        let s = ScopeSet::parse("files:readwrite  instances:read");
        assert!(s.contains("instances:read"));
        assert!(!s.contains("files:read"));
        assert!(!s.contains("read"));
        assert!(!s.contains("instances"));
        assert!(s.contains_all("instances:read files:readwrite"));
        assert!(!s.contains_all("instances:read instances:write"));
        assert_eq!(s.to_string(), "files:readwrite instances:read");
    }
}
