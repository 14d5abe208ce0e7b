//! Where and how an authorization response reaches the client: the registered redirect URI
//! and `state` ([`RedirectTarget`]), encoded in the query, the fragment or an auto-submitted
//! form (OAuth 2.0 Multiple Response Type Encoding Practices §2.1, Form Post Response Mode §2,
//! RFC 9207 `iss`).

use super::*;

/// Where responses for this request go: a registered redirect URI, plus the client's `state`.
#[derive(Debug, Clone)]
pub struct RedirectTarget {
    pub redirect_uri: RedirectUri,
    pub state: Option<String>,
    /// Query, fragment, or an auto-submitting form instead of a redirect.
    pub mode: ResponseMode,
}

/// How an authorization response reaches the client (OAuth 2.0 Multiple Response Type
/// Encoding Practices §2.1, Form Post Response Mode §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationResponse {
    /// Redirect the user agent to this URL (parameters in the query).
    Redirect(String),
    /// POST these fields to `action` from an auto-submitting HTML form.
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

impl RedirectTarget {
    /// Whether the response is an auto-submitting form (`response_mode=form_post`).
    pub fn form_post(&self) -> bool {
        self.mode == ResponseMode::FormPost
    }

    /// The response carrying `pairs`, then `state` and `iss` (RFC 9207), in the request's mode.
    pub fn respond(&self, issuer: &str, pairs: &[(&str, &str)]) -> AuthorizationResponse {
        if !self.form_post() {
            return AuthorizationResponse::Redirect(self.url_with(issuer, pairs));
        }
        let mut fields: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(state) = &self.state {
            fields.push(("state".into(), state.clone()));
        }
        fields.push(("iss".into(), issuer.to_owned()));
        AuthorizationResponse::FormPost {
            action: self.redirect_uri.as_str().to_owned(),
            fields,
        }
    }

    /// The error response of RFC 6749 §4.1.2.1, in the request's mode.
    pub fn error_response(&self, issuer: &str, error: &OAuthError) -> AuthorizationResponse {
        self.respond(
            issuer,
            &[
                ("error", error.code.as_str()),
                ("error_description", &error.description),
            ],
        )
    }

    /// The redirect URI with `pairs` added to its query (or, in fragment mode, as its fragment,
    /// Multiple Response Types §2.1), then `state` and `iss` (RFC 9207).
    pub fn url_with(&self, issuer: &str, pairs: &[(&str, &str)]) -> String {
        let mut url = match url::Url::parse(self.redirect_uri.as_str()) {
            Ok(u) => u,
            // A RedirectUri always parses; keep the registered string if it somehow does not.
            Err(_) => return self.redirect_uri.as_str().to_owned(),
        };
        if self.mode == ResponseMode::Fragment {
            // A registered redirect URI has no fragment (RFC 6749 §3.1.2), so this is all of it.
            let mut f = url::form_urlencoded::Serializer::new(String::new());
            f.extend_pairs(pairs.iter());
            if let Some(state) = &self.state {
                f.append_pair("state", state);
            }
            f.append_pair("iss", issuer);
            url.set_fragment(Some(&f.finish()));
            return url.into();
        }
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
            if let Some(state) = &self.state {
                q.append_pair("state", state);
            }
            q.append_pair("iss", issuer);
        }
        url.into()
    }

    /// The error response of RFC 6749 §4.1.2.1.
    pub fn error_url(&self, issuer: &str, error: &OAuthError) -> String {
        self.url_with(
            issuer,
            &[
                ("error", error.code.as_str()),
                ("error_description", &error.description),
            ],
        )
    }
}
