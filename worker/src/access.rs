//! Cloudflare Access: when the deployment sits behind an Access application
//! (`ACCESS_TEAM_DOMAIN` and `ACCESS_AUD` set), Access signs every request it lets
//! through with an RS256 JWT in `Cf-Access-Jwt-Assertion`. This module checks that JWT:
//! the signature against the team's published keys (JWKS), then `iss`, `aud`, `exp` and
//! `nbf`, and yields the e-mail Access signed the person in with. `auth.rs` maps the
//! e-mail to a user.
//!
//! Parsing and the claim checks are pure and tested natively; the key fetch and the RSA
//! verification (WebCrypto, so no RSA code ships in the wasm) run only in the worker.

use std::cell::RefCell;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};

/// The request header Access puts its JWT in.
pub const ASSERTION_HEADER: &str = "Cf-Access-Jwt-Assertion";
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 60;
/// How long fetched keys are trusted before they are fetched again. Access rotates its
/// keys every few weeks and publishes the next one in advance; an unknown `kid` also
/// triggers one refetch, so a rotation never waits for this.
pub const KEYS_TTL_MS: i64 = 60 * 60 * 1000;

/// The Access application this deployment trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConfig {
    /// The expected `iss`: `https://<team domain>`.
    pub issuer: String,
    /// The application's AUD tag, which `aud` must contain.
    pub audience: String,
    /// Where the team's signing keys are published.
    pub certs_url: String,
}

impl AccessConfig {
    /// From the settings; `team_domain` may be given with or without `https://`.
    pub fn new(team_domain: &str, audience: &str, certs_url: Option<&str>) -> Self {
        let team = team_domain
            .trim()
            .trim_start_matches("https://")
            .trim_end_matches('/');
        Self {
            issuer: format!("https://{team}"),
            audience: audience.trim().to_owned(),
            certs_url: certs_url.map_or_else(
                || format!("https://{team}/cdn-cgi/access/certs"),
                |url| url.trim().to_owned(),
            ),
        }
    }
}

/// Why an Access JWT was refused (logged; the client only gets 401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessError {
    /// Not a JWT, or a part does not decode.
    Malformed(&'static str),
    /// Signed with something other than RS256.
    UnsupportedAlgorithm(String),
    /// No published key has the JWT's `kid`, even after a refetch.
    UnknownKey(String),
    /// The signature does not verify.
    BadSignature,
    /// `iss` is not this team.
    WrongIssuer(String),
    /// `aud` does not contain this application's AUD tag.
    WrongAudience,
    /// `exp` has passed.
    Expired,
    /// `nbf` is still ahead.
    NotYetValid,
    /// No `email` claim (e.g. a service token).
    NoEmail,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "malformed JWT: {what}"),
            Self::UnsupportedAlgorithm(alg) => write!(f, "unsupported algorithm {alg:?}"),
            Self::UnknownKey(kid) => write!(f, "no published key has kid {kid:?}"),
            Self::BadSignature => f.write_str("bad signature"),
            Self::WrongIssuer(iss) => write!(f, "wrong issuer {iss:?}"),
            Self::WrongAudience => f.write_str("wrong audience"),
            Self::Expired => f.write_str("expired"),
            Self::NotYetValid => f.write_str("not yet valid"),
            Self::NoEmail => f.write_str("no email claim"),
        }
    }
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
    kid: Option<String>,
}

/// `aud`: one string or an array of them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "tag"`.
    One(String),
    /// `"aud": ["tag", ...]`.
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Self::One(aud) => aud == wanted,
            Self::Many(auds) => auds.iter().any(|aud| aud == wanted),
        }
    }
}

/// The claims this worker reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    /// Audience.
    pub aud: Audience,
    /// Issuer.
    pub iss: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Not before (seconds since the epoch).
    #[serde(default)]
    pub nbf: Option<i64>,
    /// The signed-in person's e-mail.
    #[serde(default)]
    pub email: Option<String>,
}

/// A JWT taken apart, signature not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwt {
    /// The signing key's id.
    pub kid: String,
    /// The payload.
    pub claims: Claims,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: String,
    /// The raw signature.
    pub signature: Vec<u8>,
}

fn decode_json<T: DeserializeOwned>(part: &str, what: &'static str) -> Result<T, AccessError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AccessError::Malformed(what))?;
    serde_json::from_slice(&bytes).map_err(|_| AccessError::Malformed(what))
}

/// Takes a compact JWS apart; only RS256 with a `kid` is accepted.
pub fn parse_jwt(token: &str) -> Result<Jwt, AccessError> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AccessError::Malformed("not three dot-separated parts"));
    };
    let head: JwtHeader = decode_json(header, "header")?;
    // The algorithm is fixed here, never taken from the token's word for it.
    if head.alg != "RS256" {
        return Err(AccessError::UnsupportedAlgorithm(head.alg));
    }
    let kid = head.kid.ok_or(AccessError::Malformed("no kid"))?;
    let claims: Claims = decode_json(payload, "payload")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| AccessError::Malformed("signature"))?;
    Ok(Jwt {
        kid,
        claims,
        signing_input: format!("{header}.{payload}"),
        signature,
    })
}

/// Checks `iss`, `aud`, `exp` and `nbf` and returns the e-mail.
pub fn check_claims(
    claims: &Claims,
    config: &AccessConfig,
    now_secs: i64,
) -> Result<String, AccessError> {
    if claims.iss.trim_end_matches('/') != config.issuer {
        return Err(AccessError::WrongIssuer(claims.iss.clone()));
    }
    if !claims.aud.contains(&config.audience) {
        return Err(AccessError::WrongAudience);
    }
    if now_secs >= claims.exp + LEEWAY_SECS {
        return Err(AccessError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now_secs + LEEWAY_SECS) {
        return Err(AccessError::NotYetValid);
    }
    claims
        .email
        .as_deref()
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .map(str::to_owned)
        .ok_or(AccessError::NoEmail)
}

/// One published key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Jwk {
    /// Key id.
    #[serde(default)]
    pub kid: Option<String>,
    /// Key type; only `RSA` is used.
    pub kty: String,
    /// RSA modulus (base64url).
    #[serde(default)]
    pub n: Option<String>,
    /// RSA exponent (base64url).
    #[serde(default)]
    pub e: Option<String>,
}

/// A JWKS document (Access's also carries `public_cert(s)`, ignored here).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The RSA key `(n, e)` with this `kid`.
    pub fn rsa_key(&self, kid: &str) -> Option<(String, String)> {
        self.keys
            .iter()
            .filter(|key| key.kty == "RSA" && key.kid.as_deref() == Some(kid))
            .find_map(|key| Some((key.n.clone()?, key.e.clone()?)))
    }
}

struct CachedKeys {
    url: String,
    fetched_at_ms: i64,
    jwks: Jwks,
}

thread_local! {
    // One isolate serves many requests; the keys are fetched once per TTL, not per request.
    static KEYS: RefCell<Option<CachedKeys>> = const { RefCell::new(None) };
}

/// Verifies an Access JWT and returns its e-mail. The outer `Err` is our failure (the
/// keys could not be fetched), the inner one the token's.
pub async fn verify(
    config: &AccessConfig,
    token: &str,
    now_ms: i64,
) -> ApiResult<Result<String, AccessError>> {
    let jwt = match parse_jwt(token) {
        Ok(jwt) => jwt,
        Err(error) => return Ok(Err(error)),
    };
    let Some((n, e)) = key_for(config, &jwt.kid, now_ms).await? else {
        return Ok(Err(AccessError::UnknownKey(jwt.kid)));
    };
    if !verify_rs256(&n, &e, jwt.signing_input.as_bytes(), &jwt.signature).await? {
        return Ok(Err(AccessError::BadSignature));
    }
    Ok(check_claims(&jwt.claims, config, now_ms.div_euclid(1000)))
}

/// The key with `kid`, from the cache while it is fresh; an unknown `kid` fetches the
/// keys once more (a rotation), at most once per request.
async fn key_for(
    config: &AccessConfig,
    kid: &str,
    now_ms: i64,
) -> ApiResult<Option<(String, String)>> {
    let cached = KEYS.with(|keys| {
        keys.borrow()
            .as_ref()
            .filter(|c| c.url == config.certs_url && now_ms - c.fetched_at_ms < KEYS_TTL_MS)
            .map(|c| c.jwks.clone())
    });
    if let Some(jwks) = cached {
        if let Some(key) = jwks.rsa_key(kid) {
            return Ok(Some(key));
        }
    }
    let jwks = fetch_keys(&config.certs_url).await?;
    let key = jwks.rsa_key(kid);
    KEYS.with(|keys| {
        *keys.borrow_mut() = Some(CachedKeys {
            url: config.certs_url.clone(),
            fetched_at_ms: now_ms,
            jwks,
        });
    });
    Ok(key)
}

async fn fetch_keys(url: &str) -> ApiResult<Jwks> {
    let parsed = worker::Url::parse(url)
        .map_err(|e| ApiError::Internal(format!("ACCESS_CERTS_URL {url:?}: {e}")))?;
    let mut response = worker::Fetch::Url(parsed)
        .send()
        .await
        .map_err(|e| ApiError::Internal(format!("fetching Access keys from {url}: {e}")))?;
    if response.status_code() != 200 {
        return Err(ApiError::Internal(format!(
            "fetching Access keys from {url}: HTTP {}",
            response.status_code()
        )));
    }
    response
        .json::<Jwks>()
        .await
        .map_err(|e| ApiError::Internal(format!("Access keys from {url}: {e}")))
}

/// RSASSA-PKCS1-v1_5 with SHA-256, by the platform's WebCrypto.
async fn verify_rs256(n: &str, e: &str, data: &[u8], signature: &[u8]) -> ApiResult<bool> {
    use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    let js = |e: JsValue| ApiError::Internal(format!("WebCrypto: {e:?}"));
    let set = |object: &Object, key: &str, value: JsValue| {
        Reflect::set(object, &JsValue::from_str(key), &value).map(|_| ())
    };
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(js)?;
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).map_err(js)?;
    let method = |name: &str| -> ApiResult<Function> {
        Reflect::get(&subtle, &JsValue::from_str(name))
            .map_err(js)?
            .dyn_into::<Function>()
            .map_err(js)
    };

    let jwk = Object::new();
    set(&jwk, "kty", "RSA".into()).map_err(js)?;
    set(&jwk, "n", n.into()).map_err(js)?;
    set(&jwk, "e", e.into()).map_err(js)?;
    set(&jwk, "alg", "RS256".into()).map_err(js)?;
    set(&jwk, "ext", true.into()).map_err(js)?;
    let algorithm = Object::new();
    set(&algorithm, "name", "RSASSA-PKCS1-v1_5".into()).map_err(js)?;
    set(&algorithm, "hash", "SHA-256".into()).map_err(js)?;
    let usages = Array::of1(&"verify".into());
    let import_args = Array::of5(&"jwk".into(), &jwk, &algorithm, &false.into(), &usages);
    let imported = method("importKey")?
        .apply(&subtle, &import_args)
        .map_err(js)?
        .dyn_into::<Promise>()
        .map_err(js)?;
    let key = JsFuture::from(imported).await.map_err(js)?;

    let verify_args = Array::of4(
        &algorithm,
        &key,
        &Uint8Array::from(signature),
        &Uint8Array::from(data),
    );
    let verified = method("verify")?
        .apply(&subtle, &verify_args)
        .map_err(js)?
        .dyn_into::<Promise>()
        .map_err(js)?;
    Ok(JsFuture::from(verified).await.map_err(js)?.as_bool() == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn config() -> AccessConfig {
        AccessConfig::new("team.cloudflareaccess.com", "aud-tag", None)
    }

    fn claims(aud: Audience, iss: &str, exp: i64, nbf: Option<i64>) -> Claims {
        Claims {
            aud,
            iss: iss.to_owned(),
            exp,
            nbf,
            email: Some("a@example.com".to_owned()),
        }
    }

    const ISS: &str = "https://team.cloudflareaccess.com";

    #[test]
    fn the_issuer_and_certs_url_come_from_the_team_domain() {
        let config = AccessConfig::new(" https://team.cloudflareaccess.com/ ", " aud ", None);
        assert_eq!(config.issuer, ISS);
        assert_eq!(config.audience, "aud");
        assert_eq!(
            config.certs_url,
            "https://team.cloudflareaccess.com/cdn-cgi/access/certs"
        );
        let local = AccessConfig::new("t.example", "a", Some("http://127.0.0.1:9/certs"));
        assert_eq!(local.certs_url, "http://127.0.0.1:9/certs");
    }

    #[test]
    fn a_well_formed_rs256_jwt_is_taken_apart() {
        let header = b64(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#);
        let payload = b64(&format!(
            r#"{{"aud":["aud-tag"],"iss":"{ISS}","exp":200,"nbf":100,"email":"a@example.com"}}"#
        ));
        let token = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode([1, 2, 3]));
        let jwt = parse_jwt(&token).unwrap();
        assert_eq!(jwt.kid, "k1");
        assert_eq!(jwt.signature, vec![1, 2, 3]);
        assert_eq!(jwt.signing_input, format!("{header}.{payload}"));
        assert_eq!(jwt.claims.aud, Audience::Many(vec!["aud-tag".into()]));
        assert_eq!(jwt.claims.email.as_deref(), Some("a@example.com"));
    }

    #[test]
    fn other_algorithms_and_malformed_tokens_are_refused() {
        let payload = b64(&format!(r#"{{"aud":"a","iss":"{ISS}","exp":1}}"#));
        let none = format!("{}.{payload}.", b64(r#"{"alg":"none","kid":"k"}"#));
        assert_eq!(
            parse_jwt(&none),
            Err(AccessError::UnsupportedAlgorithm("none".into()))
        );
        let hs = format!("{}.{payload}.AA", b64(r#"{"alg":"HS256","kid":"k"}"#));
        assert!(matches!(
            parse_jwt(&hs),
            Err(AccessError::UnsupportedAlgorithm(_))
        ));
        let no_kid = format!("{}.{payload}.AA", b64(r#"{"alg":"RS256"}"#));
        assert_eq!(parse_jwt(&no_kid), Err(AccessError::Malformed("no kid")));
        for bad in ["", "a.b", "a.b.c.d", "!!.??.AA"] {
            assert!(
                matches!(parse_jwt(bad), Err(AccessError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn valid_claims_yield_the_email() {
        let ok = claims(Audience::One("aud-tag".into()), ISS, 1_000, Some(900));
        assert_eq!(
            check_claims(&ok, &config(), 950),
            Ok("a@example.com".into())
        );
        let many = claims(
            Audience::Many(vec!["other".into(), "aud-tag".into()]),
            ISS,
            1_000,
            None,
        );
        assert!(check_claims(&many, &config(), 950).is_ok());
    }

    #[test]
    fn a_wrong_audience_or_issuer_is_refused() {
        let wrong_aud = claims(Audience::Many(vec!["other".into()]), ISS, 1_000, None);
        assert_eq!(
            check_claims(&wrong_aud, &config(), 950),
            Err(AccessError::WrongAudience)
        );
        let wrong_iss = claims(
            Audience::One("aud-tag".into()),
            "https://evil.cloudflareaccess.com",
            1_000,
            None,
        );
        assert!(matches!(
            check_claims(&wrong_iss, &config(), 950),
            Err(AccessError::WrongIssuer(_))
        ));
    }

    #[test]
    fn expiry_and_not_before_allow_a_small_leeway() {
        let c = claims(Audience::One("aud-tag".into()), ISS, 1_000, Some(900));
        assert!(check_claims(&c, &config(), 1_000 + LEEWAY_SECS - 1).is_ok());
        assert_eq!(
            check_claims(&c, &config(), 1_000 + LEEWAY_SECS),
            Err(AccessError::Expired)
        );
        assert!(check_claims(&c, &config(), 900 - LEEWAY_SECS).is_ok());
        assert_eq!(
            check_claims(&c, &config(), 900 - LEEWAY_SECS - 1),
            Err(AccessError::NotYetValid)
        );
    }

    #[test]
    fn a_token_without_an_email_is_refused() {
        let mut c = claims(Audience::One("aud-tag".into()), ISS, 1_000, None);
        c.email = None;
        assert_eq!(check_claims(&c, &config(), 950), Err(AccessError::NoEmail));
    }

    #[test]
    fn a_key_is_found_by_kid_among_rsa_keys() {
        let jwks: Jwks = serde_json::from_str(
            r#"{"keys":[{"kid":"k1","kty":"RSA","n":"nn","e":"AQAB","alg":"RS256"},
                        {"kid":"k2","kty":"EC","x":"x","y":"y"}],
                "public_cert":{"kid":"k1","cert":"..."}}"#,
        )
        .unwrap();
        assert_eq!(jwks.rsa_key("k1"), Some(("nn".into(), "AQAB".into())));
        assert_eq!(jwks.rsa_key("k2"), None);
        assert_eq!(jwks.rsa_key("k3"), None);
    }
}
