//! The fake signer and verifiers: `<typ>.<claims JSON>` in place of a JWS.

use super::*;

pub struct FakeSigner;

impl TokenSigner for FakeSigner {
    fn sign<C: Serialize>(
        &self,
        _: SigningAlg,
        typ: &str,
        claims: &C,
    ) -> Result<String, crate::ports::SignError> {
        Ok(format!(
            "{typ}.{}",
            serde_json::to_string(claims)
                .map_err(|e| crate::ports::SignError::Failed(e.to_string()))?
        ))
    }
}

/// Accepts the fake signer's tokens of the right `typ` and issuer.
impl crate::grant::delegation::IssuedTokenVerifier for FakeSigner {
    fn verify_issued(&self, token: &str, typ: &str, issuer: &str) -> Option<serde_json::Value> {
        let json = token.strip_prefix(typ)?.strip_prefix('.')?;
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        (v.get("iss")?.as_str()? == issuer).then_some(v)
    }
}

pub struct FakeVerifier;

impl AccessTokenVerifier for FakeVerifier {
    fn verify_access_token(&self, token: &str) -> Option<AccessTokenClaims> {
        let json = token.strip_prefix(ACCESS_TOKEN_TYP)?.strip_prefix('.')?;
        serde_json::from_str(json).ok()
    }
}

/// Accepts any well-formed assertion and returns its (unverified) `iss`, `sub` and `jti`, with
/// `exp` a minute after `now`; refuses anything else as a bad signature.
pub struct TrustingVerifier;

impl AssertionVerifier for TrustingVerifier {
    async fn verify(
        &self,
        _keys: &KeySource,
        a: &str,
        _rules: &AssertionRules,
        now: DateTime<Utc>,
    ) -> Result<VerifiedAssertion, AssertionRejected> {
        let get = |n| peek_claim(a, n).ok_or_else(|| AssertionRejected("bad signature".into()));
        Ok(VerifiedAssertion {
            iss: get("iss")?,
            sub: get("sub")?,
            jti: get("jti")?,
            exp: now + Duration::seconds(60),
        })
    }
}
