//! Settings errors that say where: each problem names the setting, where its value came from
//! (the configuration file, an environment variable, the built-in default) and what is wrong
//! or expected, on one line. Loading collects every problem rather than stopping at the first,
//! so `gatehouse config check` can list them all.

use std::fmt;
use std::path::PathBuf;

use figment::Figment;

use super::{LOG_FORMAT_ENV, REDIS_URL_ENV};

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The configuration file at this path.
    File(PathBuf),
    /// This environment variable.
    Env(String),
    /// Not known (settings built in code, e.g. by tests).
    Unknown,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("built-in default"),
            Origin::File(p) => write!(f, "file {}", p.display()),
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::Unknown => f.write_str("settings"),
        }
    }
}

/// One problem of the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The setting, as written in the file (`server.body_timeout`), or the variable's name.
    pub field: String,
    pub origin: Origin,
    /// What is wrong and what is expected.
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, origin: Origin, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            origin,
            message: message.into(),
        }
    }

    /// A check's message that starts with the setting's name (`"server.body_timeout must be
    /// …"`, `"api_keys.rate_limit_classes: …"`): the name becomes the field.
    pub(super) fn from_message(message: &str) -> Self {
        let (head, rest) = message.split_once(' ').unwrap_or((message, ""));
        let field = head.trim_end_matches(':');
        Self::new(field, Origin::Unknown, rest.trim())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Unknown => write!(f, "{}: {}", self.field, self.message),
            origin => write!(f, "{} (from {origin}): {}", self.field, self.message),
        }
    }
}

/// The settings could not be loaded: every problem found, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub problems: Vec<Problem>,
}

impl SettingsError {
    pub fn one(problem: Problem) -> Self {
        Self {
            problems: vec![problem],
        }
    }

    /// Whether any line of the message contains `text`.
    pub fn contains(&self, text: &str) -> bool {
        self.to_string().contains(text)
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

impl From<SettingsError> for String {
    fn from(e: SettingsError) -> Self {
        e.to_string()
    }
}

/// The environment variable that sets a field, where one does.
pub fn env_var_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "issuer" => "GATEHOUSE_ISSUER",
        "listen" => "GATEHOUSE_LISTEN",
        "database_url" => "GATEHOUSE_DATABASE_URL",
        "log.format" => LOG_FORMAT_ENV,
        "redis.url" => REDIS_URL_ENV,
        _ => return None,
    })
}

/// Where the value of `field` came from in `fig`.
pub(super) fn origin_of(fig: &Figment, field: &str) -> Origin {
    match fig.find_metadata(field) {
        Some(md) => origin_of_metadata(md, field),
        None => Origin::Default,
    }
}

fn origin_of_metadata(md: &figment::Metadata, field: &str) -> Origin {
    if let Some(path) = md.source.as_ref().and_then(|s| s.file_path()) {
        return Origin::File(path.to_path_buf());
    }
    if md.name.contains("environment") {
        let var = env_var_of(field).map_or_else(|| format!("for {field}"), str::to_owned);
        return Origin::Env(var);
    }
    Origin::Default
}

/// A figment error (a value of the wrong type, an unknown key, a file that does not parse)
/// as problems, one per error in its chain. `section`: the top-level key the error was
/// extracted under, if any.
pub(super) fn from_figment(e: figment::Error, section: Option<&str>) -> Vec<Problem> {
    e.into_iter()
        .map(|e| {
            let mut path: Vec<&str> = e.path.iter().map(String::as_str).collect();
            // A file that does not parse has no path: it is not the section's problem.
            if let Some(section) = section.filter(|_| !path.is_empty()) {
                // `extract_inner` adds the section to the path (at the end): put it first.
                path.retain(|p| *p != section);
                path.insert(0, section);
            }
            let field = match path.as_slice() {
                [] => "configuration".to_owned(),
                p => p.join("."),
            };
            let origin = match &e.metadata {
                Some(md) => origin_of_metadata(md, &field),
                None => Origin::Unknown,
            };
            let message = match &e.kind {
                figment::error::Kind::UnknownField(name, known) => {
                    format!("unknown setting `{name}` (known: {})", known.join(", "))
                }
                kind => one_line(&kind.to_string()),
            };
            Problem::new(field, origin, message)
        })
        .collect()
}

/// Removes repeated problems (a file that does not parse is reported by every section).
pub(super) fn dedup(problems: &mut Vec<Problem>) {
    let mut seen = Vec::new();
    problems.retain(|p| {
        let new = !seen.contains(p);
        if new {
            seen.push(p.clone());
        }
        new
    });
}

/// A multi-line message (a TOML parse error with its excerpt of the file) on one line: its
/// first line (where) and its last (what).
fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.contains(" | "))
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [first, .., last] => format!("{first}: {last}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_parse_error_fits_on_one_line() {
        let text = "TOML parse error at line 1, column 10\n  |\n1 | issuer = \n  |          ^\nstring values must be quoted\n";
        assert_eq!(
            one_line(text),
            "TOML parse error at line 1, column 10: string values must be quoted"
        );
    }

    #[test]
    fn a_check_message_names_its_field() {
        let p = Problem::from_message("server.body_timeout must be between 1 and 3600 seconds");
        assert_eq!(p.field, "server.body_timeout");
        assert_eq!(p.message, "must be between 1 and 3600 seconds");
        let p = Problem::from_message("api_keys.rate_limit_classes: \"x y\" is not valid");
        assert_eq!(p.field, "api_keys.rate_limit_classes");
    }
}
