//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document a client (or an MCP client)
//! reads to learn which authorization server protects this API and what it accepts, served at
//! `/.well-known/oauth-protected-resource` (with the resource's path appended, §3.1) and
//! pointed to by the `resource_metadata` parameter of every challenge (§5.1).

use serde::Serialize;

use crate::error::BuildError;

/// The metadata document (RFC 9728 §2).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProtectedResourceMetadata {
    pub resource: String,
    pub authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    pub bearer_methods_supported: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    pub dpop_signing_alg_values_supported: Vec<String>,
    pub dpop_bound_access_tokens_required: bool,
}

/// Where the metadata of `resource` is published: its path and its full URL (§3.1: the
/// well-known segment goes between the host and any path of the resource identifier).
pub(crate) fn location(resource: &str) -> Result<(String, String), BuildError> {
    let u = url::Url::parse(resource)
        .map_err(|_| BuildError(format!("resource: not a URL: {resource:?}")))?;
    if u.query().is_some() || u.fragment().is_some() {
        return Err(BuildError(
            "resource: no query or fragment allowed (RFC 9728 §2)".into(),
        ));
    }
    let tail = u.path().trim_end_matches('/');
    let path = format!("/.well-known/oauth-protected-resource{tail}");
    let url = format!("{}{path}", u.origin().ascii_serialization());
    Ok((path, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_well_known_segment_goes_before_the_resource_path() {
        let (p, u) = location("https://api.example.com").unwrap();
        assert_eq!(p, "/.well-known/oauth-protected-resource");
        assert_eq!(
            u,
            "https://api.example.com/.well-known/oauth-protected-resource"
        );
        let (p, _) = location("https://example.com/apis/v1").unwrap();
        assert_eq!(p, "/.well-known/oauth-protected-resource/apis/v1");
        assert!(location("https://example.com/?x=1").is_err());
    }
}
