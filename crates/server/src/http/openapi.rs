//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the handlers'
//! annotations and the core's wire types, so it cannot drift from the code.
//!
//! Choices the contract leaves open (token lifetimes, lockout, idempotency, unknown fields)
//! are written here, in the document itself.

use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

const DESCRIPTION: &str = "\
The central MyIntress API for the registration and deletion of users of type Satker.\n\n\
Errors are RFC 9457 `application/problem+json` with a stable English `code` and an \
Indonesian `detail`. Choices made where the contract is silent:\n\
- Access tokens are opaque bearer tokens valid 15 minutes; refresh tokens rotate on every \
use, reuse revokes the family (`refresh_token_reused`), a family expires 30 days after sign-in.\n\
- Sign-in lockout: 10 failures within 12 hours lock the NIK for 15 minutes (`423 account_locked`), \
counted for every well-formed NIK whether or not it exists. Sign-in endpoints are rate limited \
per address (10/s, burst 60; `429 rate_limited`).\n\
- `If-Match` is optional on actions; when given and stale the answer is `409 version_conflict`, \
or `409 request_superseded` when a newer submission replaced the request.\n\
- `Idempotency-Key` is per account, kept 30 days; refusals before any change are replayed \
too, server faults (5xx) are not.\n\
- Memberships carry `listed`: whether *Daftar Pengguna* shows the row (a rejection stops \
showing once a later registration of the person in the satker is approved).\n\
- Unknown JSON or form fields are `422 unknown_field`; a satker that does not exist reads \
like one out of scope (`403 satker_out_of_scope`); ids outside the caller's scope are `404`.\n\
- The change feed is filtered by scope; when a satker operator becomes active in another \
satker, the client re-reads from `after=0`.";

pub fn base() -> OpenApi {
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("MyIntress Satker API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    doc
}

/// Adds the answers every operation can give that the handlers do not list one by one:
/// `400` (malformed request), `401` (secured operations), `413`/`415`/`422` (operations
/// with a body) and `429` (sign-in), each a problem document.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let problem = |why: &str| {
        ResponseBuilder::new()
            .description(why)
            .content("application/problem+json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, why: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| problem(why).into());
            };
            if !path.starts_with("/activate/") {
                add("400", "The request is malformed (bad JSON, header or parameter)");
            }
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                add("401", "Not signed in, or the session ended");
            }
            if operation.request_body.is_some() && !path.starts_with("/activate/") {
                add("413", "The body is over the limit");
                add("415", "The body is not of the documented media type");
                add("422", "A field is missing, unknown or invalid");
            }
            if path.starts_with("/api/v1/auth/") {
                add("429", "Too many requests from this address");
            }
        }
    }
    doc
}
