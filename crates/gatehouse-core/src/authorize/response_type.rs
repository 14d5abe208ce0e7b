//! `response_type` as a set of words and the response modes (OAuth 2.0 Multiple Response Type
//! Encoding Practices §2–§5, OIDC Core §3.2.2.1, §3.3.2.1, Form Post Response Mode §2).
//!
//! `code` is the code flow. Everything that returns a token from the authorization endpoint
//! (`id_token`, `id_token token`: the implicit flow; `code id_token`, `code token`,
//! `code id_token token`: the hybrid flow) is off unless the client registered the grant type
//! `implicit` ([`crate::client::GrantType::Implicit`]): RFC 9700 §2.1.2 advises against tokens
//! in the front channel. A bare `token` (the OAuth 2.0 implicit grant without an ID token) is
//! not supported.
//!
//! Responses carrying a token never go in the query (Multiple Response Types §3.0: they would
//! land in logs, history and `Referer`): they default to the fragment, and `response_mode=query`
//! is refused for them. A plain `code` response keeps its two modes, `query` (the default) and
//! `form_post`: the fragment is for responses with tokens only.

use crate::error::{ErrorCode, OAuthError};
use crate::params::Params;

/// The `response_type` values this server implements, as discovery lists them.
pub const SUPPORTED_RESPONSE_TYPES: [&str; 6] = [
    "code",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
];

/// The `response_mode` values this server implements, as discovery lists them.
pub const SUPPORTED_RESPONSE_MODES: [&str; 3] = ["query", "fragment", "form_post"];

/// A parsed `response_type`: which of `code`, `id_token` and `token` the client asked for
/// (the order of the words does not matter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseType {
    pub code: bool,
    pub id_token: bool,
    pub token: bool,
}

impl ResponseType {
    /// The code flow's `response_type=code`.
    pub const CODE: ResponseType = ResponseType {
        code: true,
        id_token: false,
        token: false,
    };

    /// Parses the space-separated words; an unknown word, a repeated one, or a combination
    /// this server does not implement is `unsupported_response_type`.
    pub fn parse(raw: &str) -> Result<Self, OAuthError> {
        let unsupported = || {
            OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!(
                    "response_type {:?} is not supported; use code",
                    raw.chars().take(64).collect::<String>()
                ),
            )
        };
        let mut rt = ResponseType::default();
        for word in raw.split(' ') {
            let slot = match word {
                "code" => &mut rt.code,
                "id_token" => &mut rt.id_token,
                "token" => &mut rt.token,
                _ => return Err(unsupported()),
            };
            if *slot {
                return Err(unsupported());
            }
            *slot = true;
        }
        // A bare `token` (no ID token, no code) is the OAuth 2.0 implicit grant: not offered.
        if rt.token && !rt.code && !rt.id_token {
            return Err(unsupported());
        }
        Ok(rt)
    }

    /// Whether anything is returned from the authorization endpoint besides a code: the
    /// implicit or hybrid flow, which needs the client's `implicit` opt-in.
    pub fn front_channel_tokens(self) -> bool {
        self.id_token || self.token
    }

    /// The words in the order discovery lists them.
    pub fn as_str(self) -> &'static str {
        match (self.code, self.id_token, self.token) {
            (true, false, false) => "code",
            (false, true, false) => "id_token",
            (false, true, true) => "id_token token",
            (true, true, false) => "code id_token",
            (true, false, true) => "code token",
            (true, true, true) => "code id_token token",
            // `parse` never yields the others.
            _ => "",
        }
    }
}

/// How the response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query (the default for `code`).
    Query,
    /// Parameters in the redirect URI's fragment (the default for responses with tokens).
    Fragment,
    /// An auto-submitted HTML form (Form Post Response Mode §2).
    FormPost,
}

impl ResponseMode {
    /// The mode a request's responses — errors included — are sent in, decided from the raw
    /// parameters before anything else is validated. A request whose `response_type` mentions
    /// a token gets its answers in the fragment unless it asked for `form_post`, even when it
    /// asked for `query` (that request is then refused, in the fragment); any other request
    /// gets them in the query unless it asked for `form_post`.
    pub fn of_request(params: &Params) -> Self {
        let with_tokens = params
            .get("response_type")
            .is_some_and(|r| r.split(' ').any(|w| w == "token" || w == "id_token"));
        match params.get("response_mode") {
            Some("form_post") => ResponseMode::FormPost,
            _ if with_tokens => ResponseMode::Fragment,
            _ => ResponseMode::Query,
        }
    }
}

/// The `response_mode` parameter checked against `rt`: unknown modes, `query` for a response
/// that carries a token and `fragment` for one that does not are `invalid_request`.
pub fn check_response_mode(params: &Params, rt: ResponseType) -> Result<(), OAuthError> {
    let tokens = rt.front_channel_tokens();
    match params.get("response_mode") {
        None | Some("form_post") => Ok(()),
        Some("query") if !tokens => Ok(()),
        Some("fragment") if tokens => Ok(()),
        Some("query") => Err(OAuthError::invalid_request(
            "response_mode query is not allowed when the response carries a token; use fragment or form_post",
        )),
        Some("fragment") => Err(OAuthError::invalid_request(
            "response_mode fragment is for responses with tokens; use query or form_post",
        )),
        Some(other) => Err(OAuthError::invalid_request(format!(
            "response_mode {:?} is not supported; use query, fragment or form_post",
            other.chars().take(64).collect::<String>()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_type_is_a_set_of_words_in_any_order_oauth_multiple_response_types_3() {
        for raw in SUPPORTED_RESPONSE_TYPES {
            assert_eq!(ResponseType::parse(raw).unwrap().as_str(), raw);
        }
        assert_eq!(
            ResponseType::parse("token id_token code").unwrap(),
            ResponseType::parse("code id_token token").unwrap()
        );
        assert_eq!(
            ResponseType::parse("id_token code").unwrap().as_str(),
            "code id_token"
        );
    }

    #[test]
    fn unknown_repeated_or_bare_token_is_unsupported_response_type() {
        for raw in ["token", "code code", "none", "", "code  id_token", "Code"] {
            let e = ResponseType::parse(raw).unwrap_err();
            assert_eq!(e.code, ErrorCode::UnsupportedResponseType, "{raw:?}");
        }
    }

    #[test]
    fn responses_with_tokens_default_to_the_fragment_and_refuse_the_query() {
        let p = |q: &str| Params::from_query(q).unwrap();
        let mode = |q: &str| ResponseMode::of_request(&p(q));
        assert_eq!(mode("response_type=code"), ResponseMode::Query);
        assert_eq!(mode("response_type=id_token"), ResponseMode::Fragment);
        assert_eq!(
            mode("response_type=code%20id_token&response_mode=query"),
            ResponseMode::Fragment
        );
        assert_eq!(
            mode("response_type=id_token&response_mode=form_post"),
            ResponseMode::FormPost
        );
        assert_eq!(
            mode("response_type=code&response_mode=fragment"),
            ResponseMode::Query
        );
        let rt = ResponseType::parse("id_token token").unwrap();
        let e = check_response_mode(&p("response_mode=query"), rt).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(check_response_mode(&p("response_mode=query"), ResponseType::CODE).is_ok());
        assert!(check_response_mode(&p("response_mode=fragment"), rt).is_ok());
        let e = check_response_mode(&p("response_mode=fragment"), ResponseType::CODE);
        assert_eq!(e.unwrap_err().code, ErrorCode::InvalidRequest);
    }
}
