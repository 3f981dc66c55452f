#![allow(clippy::unwrap_used)]
//! Seeded fault injection over the wire: the same seed and faults give the same
//! statuses for the same sequential requests, another seed another sequence; dropped
//! connections are client errors; 429s carry a (sometimes fractional) Retry-After; the
//! stats count what was injected.

mod common;

use std::collections::BTreeMap;

use common::{Resp, client_for};
use pulumi_azure_oidc_emulator::{
    DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_OPERATOR_SECRET, DEFAULT_PULUMI_TOKEN, Emulator,
    FaultOptions, Options,
};
use reqwest::Method;
use serde_json::json;

fn busy() -> FaultOptions {
    FaultOptions {
        throttle_rate: 0.2,
        server_error_rate: 0.2,
        drop_rate: 0.15,
        retry_after_max_secs: 3.0,
        ..FaultOptions::default()
    }
}

async fn emulator(seed: u64, faults: FaultOptions) -> Emulator {
    Emulator::start(Options {
        seed,
        faults,
        ..Options::default()
    })
    .await
    .unwrap()
}

/// `n` sequential Pulumi requests over `base`; a dropped connection is status 0.
async fn statuses(emu: &Emulator, base: &str, n: usize) -> Vec<u16> {
    let client = client_for(emu);
    let mut out = Vec::new();
    for _ in 0..n {
        let r = client
            .get(format!("{base}/api/user"))
            .header("authorization", format!("token {DEFAULT_PULUMI_TOKEN}"))
            .send()
            .await;
        out.push(match r {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        });
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_seed_gives_the_same_sequence() {
    let a = emulator(42, busy()).await;
    let b = emulator(42, busy()).await;
    let c = emulator(43, busy()).await;
    let sa = statuses(&a, a.http_url(), 60).await;
    let sb = statuses(&b, b.http_url(), 60).await;
    let sc = statuses(&c, c.http_url(), 60).await;
    assert_eq!(sa, sb);
    assert_ne!(sa, sc);
    for wanted in [0, 200, 429] {
        assert!(sa.contains(&wanted), "{wanted} missing from {sa:?}");
    }
    assert!(sa.iter().any(|s| (500..=504).contains(s)), "{sa:?}");
    assert!(
        sa.iter()
            .all(|s| [0, 200, 429, 500, 502, 503, 504].contains(s)),
        "{sa:?}"
    );

    // The stats count the injected faults, and they add up to what the client saw.
    let stats = a.stats();
    let faults: BTreeMap<String, u64> = serde_json::from_value(stats["faults"].clone()).unwrap();
    let count = |f: &dyn Fn(u16) -> bool| sa.iter().filter(|s| f(**s)).count() as u64;
    assert_eq!(
        faults.get("throttle").copied().unwrap_or(0),
        count(&|s| s == 429)
    );
    assert_eq!(
        faults.get("server_error").copied().unwrap_or(0),
        count(&|s| (500..=504).contains(&s))
    );
    assert_eq!(
        faults.get("drop_before").copied().unwrap_or(0)
            + faults.get("drop_after").copied().unwrap_or(0),
        count(&|s| s == 0)
    );
    assert_eq!(stats["requests"], 60);
    // Handled requests (including those whose answer was dropped after) are counted by kind.
    let handled = count(&|s| s == 200) + faults.get("drop_after").copied().unwrap_or(0);
    assert_eq!(stats["by_kind"]["pulumi.user"], handled, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn https_sequences_match_too_and_drops_are_errors() {
    let a = emulator(7, busy()).await;
    let b = emulator(7, busy()).await;
    let sa = statuses(&a, a.https_url(), 40).await;
    let sb = statuses(&b, b.https_url(), 40).await;
    assert_eq!(sa, sb);
    assert!(sa.contains(&0), "no dropped connection in {sa:?}");

    // Every request dropped: the client sees an error, never a response.
    let dropping = emulator(
        1,
        FaultOptions {
            drop_rate: 1.0,
            ..FaultOptions::default()
        },
    )
    .await;
    let client = client_for(&dropping);
    for base in [dropping.http_url(), dropping.https_url()] {
        for _ in 0..4 {
            let r = client
                .get(format!("{base}/api/user"))
                .header("authorization", format!("token {DEFAULT_PULUMI_TOKEN}"))
                .send()
                .await;
            assert!(r.is_err(), "{r:?}");
        }
    }
    let faults = &dropping.stats()["faults"];
    assert_eq!(
        faults["drop_before"].as_u64().unwrap() + faults["drop_after"].as_u64().unwrap(),
        8
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_carries_retry_after_in_each_services_envelope() {
    let emu = emulator(
        3,
        FaultOptions {
            throttle_rate: 1.0,
            retry_after_max_secs: 2.5,
            ..FaultOptions::default()
        },
    )
    .await;
    let client = client_for(&emu);
    let base = emu.https_url();
    let mut values = Vec::new();
    for _ in 0..10 {
        let r = Resp::read(
            client
                .get(format!("{base}/v1.0/applications"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        // The sample body of Graph's throttling page.
        assert_eq!((r.status, r.code()), (429, "TooManyRequests"), "{}", r.text);
        assert_eq!(r.message(), "Please retry again later.");
        let inner = &r.json["error"]["innerError"];
        assert_eq!(
            (inner["code"].as_str(), inner["status"].as_str()),
            (Some("429"), Some("429"))
        );
        assert_eq!(inner["message"], "Please retry after");
        assert!(inner["date"].is_string() && inner["request-id"].is_string());
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/json;odata.metadata=minimal")
        );
        let v: f64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!(v > 0.0 && v <= 2.5, "{v}");
        values.push(v);
    }
    assert!(values.iter().any(|v| v.fract() != 0.0), "{values:?}");

    let arm = Resp::read(
        client
            .get(format!("{base}/subscriptions/s/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    arm.assert_arm_error(429, "SubscriptionRequestsThrottled");
    assert!(arm.header("retry-after").is_some());
    assert_eq!(
        arm.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("0")
    );
    let token = Resp::read(
        client
            .post(format!("{base}/{}/oauth2/v2.0/token", emu.tenant_id()))
            .form(&[
                ("client_id", DEFAULT_OPERATOR_CLIENT_ID),
                ("client_secret", DEFAULT_OPERATOR_SECRET),
                ("grant_type", "client_credentials"),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(token.status, 429);
    assert_eq!(token.json["error"], "temporarily_unavailable");
    assert!(token.header("retry-after").is_some());
    let pulumi = Resp::read(client.get(format!("{base}/api/user")).send().await.unwrap()).await;
    pulumi.assert_pulumi_error(429);
    assert!(pulumi.header("retry-after").is_some());

    // Admin endpoints are never faulted; switching faults off takes effect at once.
    let admin = Resp::read(
        client
            .get(format!("{base}/_emulator/stats"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(admin.status, 200);
    assert_eq!(admin.json["faults"], json!({"throttle": 13}));
    emu.set_faults(FaultOptions::default()).unwrap();
    let r = client
        .request(Method::GET, format!("{base}/api/user"))
        .header("authorization", format!("token {DEFAULT_PULUMI_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        emu.set_faults(FaultOptions {
            drop_rate: 1.5,
            ..FaultOptions::default()
        })
        .is_err()
    );
    emu.reset_stats();
    assert_eq!(emu.stats()["requests"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_use_each_services_envelope_and_latency_is_added() {
    let emu = emulator(
        5,
        FaultOptions {
            server_error_rate: 1.0,
            latency_ms: 40,
            ..FaultOptions::default()
        },
    )
    .await;
    let client = client_for(&emu);
    let base = emu.https_url();
    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    for _ in 0..8 {
        let r = Resp::read(
            client
                .get(format!("{base}/v1.0/applications"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!([500, 502, 503, 504].contains(&r.status), "{}", r.status);
        let code = if r.status == 503 {
            "serviceNotAvailable"
        } else {
            "generalException"
        };
        r.assert_graph_error(r.status, code);
        seen.push(r.status);
    }
    assert!(started.elapsed() >= std::time::Duration::from_millis(8 * 40));
    seen.dedup();
    assert!(seen.len() > 1, "one status only: {seen:?}");
    assert!(
        Emulator::start(Options {
            faults: FaultOptions {
                throttle_rate: -0.1,
                ..FaultOptions::default()
            },
            ..Options::default()
        })
        .await
        .is_err()
    );
}
