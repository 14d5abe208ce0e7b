//! `[log]`: the shape of the log lines. What is logged is chosen by the `GATEHOUSE_LOG` filter
//! (tracing's `EnvFilter` syntax), read by the binary.

use serde::{Deserialize, Serialize};

/// How log lines are written (standard error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `[log]` (`GATEHOUSE_LOG_FORMAT` wins over the file).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
}
