//! What one server process counts for Prometheus (`GET /metrics`, OpenMetrics text, behind
//! `--metrics-token`): requests by route and status, their durations, the mail outbox,
//! background job steps and letter checks. Each [`AppState`](crate::state::AppState) has
//! its own registry (no global recorder), so several servers in one test process keep
//! their own figures; each replica is scraped on its own.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route's template (`/api/v1/memberships/{id}`), never the concrete path, so the
    /// number of series stays bounded; `unmatched` for any address no route serves.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// The step of the background round (`dormancy`, `documents`, …).
    pub job: &'static str,
    /// `ok` or `failed`.
    pub outcome: &'static str,
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The letter passed.
    Accepted,
    /// The letter was refused (the document's fault).
    Refused,
    /// The checker could not answer (busy, could not start).
    Failed,
}

impl CheckOutcome {
    /// The label value (Prometheus spells them in lower case).
    fn label(self) -> &'static str {
        match self {
            CheckOutcome::Accepted => "accepted",
            CheckOutcome::Refused => "refused",
            CheckOutcome::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    pub outcome: &'static str,
}

/// One registry and the handles that write into it.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    mail_outbox: Gauge,
    job_runs: Family<JobLabels, Counter>,
    pdf_checks: Family<CheckLabels, Histogram, fn() -> Histogram>,
}

/// Request durations: 1 ms to ~16 s.
fn request_buckets() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 15))
}

/// Letter checks: 10 ms to ~40 s (the child's wall limit is 30 s).
fn check_buckets() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.01, 2.0, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("myintress");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by method, route and status", requests.clone());
        let durations = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(request_buckets);
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer's head",
            prometheus_client::registry::Unit::Seconds,
            durations.clone(),
        );
        let mail_outbox = Gauge::default();
        registry.register("mail_outbox_depth", "E-mails queued and not yet sent (read at each scrape)", mail_outbox.clone());
        let job_runs = Family::<JobLabels, Counter>::default();
        registry.register("job_runs", "Steps of the background round run by this replica, by outcome", job_runs.clone());
        let pdf_checks = Family::<CheckLabels, Histogram, fn() -> Histogram>::new_with_constructor(check_buckets);
        registry.register_with_unit(
            "pdf_check_duration",
            "Letter and decree checks in the sandboxed child, by outcome",
            prometheus_client::registry::Unit::Seconds,
            pdf_checks.clone(),
        );
        Metrics { registry, requests, durations, mail_outbox, job_runs, pdf_checks }
    }
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests.get_or_create(&RequestLabels { method: method.to_owned(), route: route.to_owned(), status }).inc();
        self.durations.get_or_create(&RouteLabels { method: method.to_owned(), route: route.to_owned() }).observe(took.as_secs_f64());
    }

    pub fn job(&self, job: &'static str, ok: bool) {
        self.job_runs.get_or_create(&JobLabels { job, outcome: if ok { "ok" } else { "failed" } }).inc();
    }

    pub fn pdf_check(&self, outcome: CheckOutcome, took: Duration) {
        self.pdf_checks.get_or_create(&CheckLabels { outcome: outcome.label() }).observe(took.as_secs_f64());
    }

    /// The text Prometheus reads, with the outbox depth just read from the database.
    pub fn render(&self, mail_outbox: i64) -> String {
        self.mail_outbox.set(mail_outbox);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
