//! The typed client of the central API (`/openapi.json`), over the wire types of
//! `myintress_core::api`. Problem documents become [`ApiError::Problem`] with their code;
//! anything that never reached the server, or a 5xx, is a [`ApiError::Transient`] the
//! caller may retry.

use std::time::Duration;

use myintress_core::ErrorCode;
use myintress_core::api::{
    BulkAnswer, BulkRequest, CaptchaChallenge, ContactCorrection, DigitAccount, Kppn, LoginRequest, Me, Membership, MembershipDetail,
    NewVerifier, Page, PasswordChange, PasswordResetRequest, Problem, QueueItem, RawChangesPage, ReferenceLoaded, RefreshRequest,
    RegistrationCheck, RegistrationCheckRequest, TokenPair, Verifier, VerifierMove,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request did not get a definite answer: no connection, timeout, a cut body, a
    /// 5xx or 429. Retrying with the same idempotency key is safe.
    #[error("server tidak dapat dihubungi: {0}")]
    Transient(String),
    /// The server answered with a problem document (4xx).
    #[error("{} ({})", .problem.detail, .problem.code)]
    Problem { status: u16, problem: Box<Problem> },
    /// The answer could not be read as the contract says.
    #[error("jawaban server tidak dikenali: {0}")]
    Decode(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Problem { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The code a program acts on: the problem's, [`ErrorCode::Offline`] when no answer
    /// came, [`ErrorCode::BadAnswer`] when the answer broke the contract.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Problem { problem, .. } => problem.code.clone(),
            ApiError::Transient(_) => ErrorCode::Offline,
            ApiError::Decode(_) => ErrorCode::BadAnswer,
        }
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }
}

/// What a request sends besides its path.
pub enum Body {
    Empty,
    Json(serde_json::Value),
    /// A multipart body already encoded (registrations and deletions are encoded once
    /// and resent byte for byte, so the idempotency fingerprint matches).
    Multipart {
        boundary: String,
        bytes: Vec<u8>,
    },
}

#[derive(Clone)]
pub struct ApiClient {
    base: String,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(base: &str) -> Result<ApiClient, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(transient)?;
        Ok(ApiClient { base: base.trim_end_matches('/').to_owned(), http })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A GET, sent again once when it failed before any answer came back (not a timeout):
    /// a kept-alive connection that the network or a proxy dropped while idle must not
    /// fail a whole sync round. GETs change nothing, so the resend is harmless.
    async fn get(&self, path: &str, token: Option<&str>) -> Result<reqwest::Response, reqwest::Error> {
        let request = || {
            let r = self.http.get(self.url(path));
            match token {
                Some(t) => r.bearer_auth(t),
                None => r,
            }
        };
        match request().send().await {
            Err(e) if e.is_request() && !e.is_timeout() => {
                let (error, path) = (masked(&e), myintress_core::nik::mask_niks_in(path));
                tracing::debug!(error, path, "GET failed before an answer; sending once more");
                request().send().await
            }
            other => other,
        }
    }

    async fn read<T: DeserializeOwned>(response: Result<reqwest::Response, reqwest::Error>) -> Result<T, ApiError> {
        let bytes = Self::read_bytes(response).await?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode(e.to_string()))
    }

    async fn read_bytes(response: Result<reqwest::Response, reqwest::Error>) -> Result<Vec<u8>, ApiError> {
        let response = response.map_err(transient)?;
        let status = response.status();
        // A body cut mid-way is as good as no answer.
        let bytes = response.bytes().await.map_err(transient)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT {
            return Err(ApiError::Transient(format!("status {status}")));
        }
        match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => Err(ApiError::Problem { status: status.as_u16(), problem: Box::new(problem) }),
            // A 4xx without a problem body (a proxy's page, say) is not the server's word.
            Err(_) => Err(ApiError::Transient(format!("status {status} tanpa dokumen masalah"))),
        }
    }

    pub async fn captcha(&self) -> Result<CaptchaChallenge, ApiError> {
        Self::read(self.get("/api/v1/auth/captcha", None).await).await
    }

    pub async fn login(&self, request: &LoginRequest) -> Result<TokenPair, ApiError> {
        Self::read(self.http.post(self.url("/api/v1/auth/login")).json(request).send().await).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, ApiError> {
        let body = RefreshRequest { refresh_token: refresh_token.to_owned() };
        Self::read(self.http.post(self.url("/api/v1/auth/refresh")).json(&body).send().await).await
    }

    /// Asks for a password-reset link; the answer is the same whether or not the NIK has an account.
    pub async fn password_reset(&self, request: &PasswordResetRequest) -> Result<(), ApiError> {
        Self::read_bytes(self.http.post(self.url("/api/v1/auth/password-reset")).json(request).send().await).await.map(|_| ())
    }

    pub async fn change_password(&self, token: &str, change: &PasswordChange) -> Result<(), ApiError> {
        let request = self.http.post(self.url("/api/v1/auth/password")).bearer_auth(token).json(change);
        Self::read_bytes(request.send().await).await.map(|_| ())
    }

    /// A KPPN verifier corrects a phone or e-mail, on the version the person saw.
    pub async fn correct_contact(
        &self,
        token: &str,
        id: uuid::Uuid,
        version: i64,
        correction: &ContactCorrection,
    ) -> Result<Membership, ApiError> {
        let request = self
            .http
            .post(self.url(&format!("/api/v1/memberships/{id}/contact")))
            .bearer_auth(token)
            .header("If-Match", format!("\"{version}\""))
            .json(correction);
        Self::read(request.send().await).await
    }

    pub async fn resend_activation(&self, token: &str, id: uuid::Uuid) -> Result<(), ApiError> {
        let request = self.http.post(self.url(&format!("/api/v1/memberships/{id}/resend-activation"))).bearer_auth(token);
        Self::read_bytes(request.send().await).await.map(|_| ())
    }

    pub async fn logout_all(&self, token: &str) -> Result<(), ApiError> {
        Self::read_bytes(self.http.post(self.url("/api/v1/auth/logout-all")).bearer_auth(token).send().await).await.map(|_| ())
    }

    pub async fn logout(&self, token: &str) -> Result<(), ApiError> {
        Self::read_bytes(self.http.post(self.url("/api/v1/auth/logout")).bearer_auth(token).send().await).await.map(|_| ())
    }

    /// Administration (central operators): every verifier.
    pub async fn verifiers(&self, token: &str) -> Result<Vec<Verifier>, ApiError> {
        Self::read::<Page<Verifier>>(self.get("/api/v1/admin/verifiers", Some(token)).await).await.map(|p| p.items)
    }

    /// Administration: the KPPN list.
    pub async fn kppns(&self, token: &str) -> Result<Vec<Kppn>, ApiError> {
        Self::read::<Page<Kppn>>(self.get("/api/v1/admin/kppns", Some(token)).await).await.map(|p| p.items)
    }

    pub async fn create_verifier(&self, token: &str, verifier: &NewVerifier) -> Result<Verifier, ApiError> {
        Self::read(self.http.post(self.url("/api/v1/admin/verifiers")).bearer_auth(token).json(verifier).send().await).await
    }

    /// `disable`, `enable` or `move` (with a body) on a verifier.
    pub async fn change_verifier(&self, token: &str, nik: &str, what: &str, to: Option<&VerifierMove>) -> Result<Verifier, ApiError> {
        let mut request = self.http.post(self.url(&format!("/api/v1/admin/verifiers/{nik}/{what}"))).bearer_auth(token);
        if let Some(to) = to {
            request = request.json(to);
        }
        Self::read(request.send().await).await
    }

    /// Uploads `kppn.csv` and/or `satker.csv`.
    pub async fn upload_reference(&self, token: &str, kppn: Option<&[u8]>, satker: Option<&[u8]>) -> Result<ReferenceLoaded, ApiError> {
        let mut form = reqwest::multipart::Form::new();
        for (name, file, bytes) in [("kppn", "kppn.csv", kppn), ("satker", "satker.csv", satker)] {
            if let Some(bytes) = bytes {
                let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file).mime_str("text/csv").expect("valid mime");
                form = form.part(name, part);
            }
        }
        Self::read(self.http.post(self.url("/api/v1/admin/reference")).bearer_auth(token).multipart(form).send().await).await
    }

    /// The certificates signed letters are checked against.
    pub async fn trust(&self, token: &str) -> Result<myintress_core::api::TrustAnswer, ApiError> {
        Self::read(self.get("/api/v1/trust", Some(token)).await).await
    }

    pub async fn me(&self, token: &str) -> Result<Me, ApiError> {
        Self::read(self.get("/api/v1/me", Some(token)).await).await
    }

    pub async fn digit(&self, token: &str, nik: &str) -> Result<Option<DigitAccount>, ApiError> {
        match Self::read(self.get(&format!("/api/v1/digit/{nik}"), Some(token)).await).await {
            Ok(found) => Ok(Some(found)),
            Err(e) if e.code() == ErrorCode::DigitAccountNotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The civil registry's word on a NIK and name before a registration is sent.
    pub async fn check_registration(&self, token: &str, request: &RegistrationCheckRequest) -> Result<RegistrationCheck, ApiError> {
        Self::read(self.http.post(self.url("/api/v1/registrations/check")).bearer_auth(token).json(request).send().await).await
    }

    /// One decision for a batch of requests; the batch's key replays the first answer.
    pub async fn bulk(&self, token: &str, idempotency_key: &str, request: &BulkRequest) -> Result<BulkAnswer, ApiError> {
        let post = self.http.post(self.url("/api/v1/memberships/bulk")).bearer_auth(token).header("Idempotency-Key", idempotency_key);
        Self::read(post.json(request).send().await).await
    }

    /// A page of the change feed; with `count`, it also says how many changes remain.
    pub async fn changes(&self, token: &str, after: i64, limit: i64, count: bool) -> Result<RawChangesPage, ApiError> {
        Self::read(self.get(&format!("/api/v1/changes?after={after}&limit={limit}&count={count}"), Some(token)).await).await
    }

    pub async fn queue(&self, token: &str) -> Result<Vec<QueueItem>, ApiError> {
        Self::read::<Page<QueueItem>>(self.get("/api/v1/queue", Some(token)).await).await.map(|p| p.items)
    }

    pub async fn membership(&self, token: &str, id: uuid::Uuid) -> Result<MembershipDetail, ApiError> {
        Self::read(self.get(&format!("/api/v1/memberships/{id}"), Some(token)).await).await
    }

    pub async fn audit(&self, token: &str, nik: &str) -> Result<Vec<myintress_core::api::AuditEntry>, ApiError> {
        let page: myintress_core::api::Page<myintress_core::api::AuditEntry> =
            Self::read(self.get(&format!("/api/v1/audit?nik={nik}"), Some(token)).await).await?;
        Ok(page.items)
    }

    pub async fn document(&self, token: &str, id: uuid::Uuid) -> Result<Vec<u8>, ApiError> {
        Self::read_bytes(self.get(&format!("/api/v1/documents/{id}"), Some(token)).await).await
    }

    /// Sends one outbox action. The same `idempotency_key` and body replay the first
    /// answer, so a retry after a lost response is safe.
    pub async fn send_action<T: DeserializeOwned>(
        &self,
        token: &str,
        path: &str,
        idempotency_key: &str,
        if_match: Option<i64>,
        body: &Body,
    ) -> Result<T, ApiError> {
        let mut request = self.http.post(self.url(path)).bearer_auth(token).header("Idempotency-Key", idempotency_key);
        if let Some(version) = if_match {
            request = request.header("If-Match", format!("\"{version}\""));
        }
        request = match body {
            Body::Empty => request,
            Body::Json(v) => request.json(v),
            Body::Multipart { boundary, bytes } => {
                request.header("Content-Type", format!("multipart/form-data; boundary={boundary}")).body(bytes.clone())
            }
        };
        Self::read(request.send().await).await
    }
}

/// Encodes text fields and one file part as `multipart/form-data` with a fixed boundary.
pub fn encode_multipart(boundary: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    let (name, filename, bytes) = file;
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// A request that got no usable answer, in words without a whole NIK (a request's address
/// may carry one).
fn transient(e: reqwest::Error) -> ApiError {
    ApiError::Transient(masked(&e))
}

fn masked(e: &reqwest::Error) -> String {
    myintress_core::nik::mask_niks_in(&e.to_string())
}
