//! What each metric means: the `# HELP` line Prometheus shows beside it (issue #14, item 10:
//! /metrics had none). One table for every crate's metrics, since they all end up on one page.

/// `(name, help)` of every counter.
const COUNTERS: &[(&str, &str)] = &[
    (
        "consentry_decisions_total",
        "Messages decided, by status (accepted, deferred, rejected).",
    ),
    (
        "consentry_decision_reasons_total",
        "Reasons given in decisions, by reason code (a message may carry several).",
    ),
    (
        "consentry_consent_events_total",
        "Consent events committed, by action (opt_in, opt_out).",
    ),
    (
        "consentry_handed_off_total",
        "Messages handed to a carrier.",
    ),
    (
        "consentry_replies_total",
        "Consumer replies handled, by intent.",
    ),
    (
        "consentry_complaints_total",
        "Complaints filed, by verdict.",
    ),
    (
        "consentry_suspensions_total",
        "Senders suspended automatically by enforcement.",
    ),
    (
        "consentry_suspension_changes_total",
        "Suspension changes made by the operator, by action.",
    ),
    (
        "consentry_smpp_submits_total",
        "submit_sm received by the SMPP listener, by status.",
    ),
    (
        "consentry_smpp_pdus_in_total",
        "PDUs read by the SMPP listener.",
    ),
    (
        "consentry_smpp_bad_pdus_total",
        "Undecodable PDUs read by the SMPP listener.",
    ),
    (
        "consentry_smpp_bind_failures_total",
        "Failed binds to the SMPP listener.",
    ),
    (
        "consentry_smpp_refused_connections_total",
        "SMPP connections closed on accept, by the limit reached (sessions, per_address, unbound).",
    ),
    (
        "consentry_smpp_slow_clients_total",
        "SMPP sessions closed because the client stopped reading.",
    ),
    (
        "consentry_smpp_undeliverable_total",
        "Receipts or replies for a merchant with no session able to take them.",
    ),
    (
        "consentry_carrier_binds_total",
        "Binds of the SMPP links to carriers, by carrier.",
    ),
    (
        "consentry_carrier_throttled_total",
        "Carrier answers asking us to slow down.",
    ),
    (
        "consentry_carrier_timeouts_total",
        "Carrier requests that timed out.",
    ),
    (
        "consentry_forwarded_total",
        "Requests forwarded to a partition's owner (cluster mode).",
    ),
    (
        "consentry_partition_unavailable_total",
        "Requests answered 503 because a partition had no reachable owner.",
    ),
    (
        "consentry_partition_takeovers_total",
        "Partitions this node took over.",
    ),
];

/// `(name, help)` of every histogram and gauge the recorder holds.
const OTHERS: &[(&str, &str)] = &[
    (
        "consentry_http_commit_batch",
        "Submissions recorded per HTTP group commit.",
    ),
    (
        "consentry_smpp_commit_batch",
        "Submissions recorded per SMPP group commit.",
    ),
    (
        "consentry_partitions_owned",
        "Partitions this node owns (cluster mode).",
    ),
];

/// Describes every metric to the installed recorder, so the exporter writes its HELP line.
pub(crate) fn describe() {
    for (name, help) in COUNTERS {
        metrics::describe_counter!(*name, *help);
    }
    for (name, help) in OTHERS {
        metrics::describe_histogram!(*name, *help);
        metrics::describe_gauge!(*name, *help);
    }
}
