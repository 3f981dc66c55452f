#![allow(clippy::unwrap_used)]
//! The Pulumi OIDC issuer stand-in (discovery, JWKS, minted claims as in
//! Pulumi's OIDC docs) and the `/_emulator/…` admin endpoints, over HTTP and HTTPS.

mod common;

use common::{ARM_SCOPE, Api, credential};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use pulumi_azure_oidc_emulator::{
    DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_TENANT_ID, MintRequest, PULUMI_ISSUER,
};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn issuer_discovery_jwks_and_minted_claims() {
    let api = Api::start().await;
    for base in [
        api.emu.https_url().to_owned(),
        api.emu.http_url().to_owned(),
    ] {
        let d = api
            .send(
                Method::GET,
                &format!("{base}/oidc/.well-known/openid-configuration"),
                None,
                None,
                &[],
            )
            .await;
        assert_eq!(d.status, 200);
        assert_eq!(d.json["issuer"], json!(format!("{base}/oidc")));
        assert_eq!(
            d.json["jwks_uri"],
            json!(format!("{base}/oidc/.well-known/jwks"))
        );
        assert_eq!(
            d.json["id_token_signing_alg_values_supported"],
            json!(["RS256"])
        );
    }
    let jwks = api
        .send(
            Method::GET,
            &format!("{}/oidc/.well-known/jwks", api.base),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(jwks.status, 200);
    let set: JwkSet = serde_json::from_value(jwks.json.clone()).unwrap();
    assert_eq!(set.keys.len(), 1);
    assert_eq!(jwks.json["keys"][0]["kty"], "RSA");
    assert_eq!(jwks.json["keys"][0]["alg"], "RS256");
    assert_eq!(jwks.json["keys"][0]["use"], "sig");

    // A Deployments token verifies against the published key and carries the documented Deployments claims.
    let token = api
        .emu
        .mint(&MintRequest::deployment(
            "contoso", "core", "dev", "refresh",
        ))
        .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["contoso"]);
    validation.set_issuer(&[PULUMI_ISSUER]);
    let claims =
        jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap()
            .claims;
    assert_eq!(
        claims["sub"],
        "pulumi:deploy:org:contoso:project:core:stack:dev:operation:refresh:scope:write"
    );
    assert_eq!(claims["aud"], "contoso");
    for (k, v) in [
        ("org", "contoso"),
        ("project", "core"),
        ("stack", "dev"),
        ("stackId", "contoso/core/dev"),
        ("operation", "refresh"),
        ("scope", "write"),
    ] {
        assert_eq!(claims[k], v, "{k}");
    }
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    assert!(claims["jti"].is_string());

    // An ESC token: the documented azure-login audience and claims.
    let esc = api
        .emu
        .mint(&MintRequest::esc("contoso", "infra", "prod"))
        .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["azure:contoso"]);
    let claims =
        jsonwebtoken::decode::<Value>(&esc, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap()
            .claims;
    assert_eq!(claims["current_env"], "infra/prod");
    assert_eq!(claims["root_env"], "infra/prod");
    assert!(claims["trigger_user"].is_string());
    assert!(
        claims["sub"]
            .as_str()
            .unwrap()
            .starts_with("pulumi:environments:"),
        "{claims}"
    );
    // A foreign-key token does not verify against the published set.
    let mut foreign = MintRequest::deployment("contoso", "core", "dev", "update");
    foreign.foreign_key = true;
    let foreign = api.emu.mint(&foreign).unwrap();
    let kid = jsonwebtoken::decode_header(&foreign).unwrap().kid.unwrap();
    assert!(set.find(&kid).is_none());
    // Minting refuses what Pulumi would never issue: an operation it has no token for.
    let bad = MintRequest::deployment("contoso", "core", "dev", "explode");
    assert!(api.emu.mint(&bad).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_info_state_mint_faults_and_stats() {
    let api = Api::start().await;
    // Admin endpoints answer over plain HTTP too, without authentication.
    let admin = |path: &str| format!("{}/_emulator/{path}", api.emu.http_url());
    let info = api.send(Method::GET, &admin("info"), None, None, &[]).await;
    assert_eq!(info.status, 200);
    assert_eq!(info.json["https_url"], json!(api.emu.https_url()));
    assert_eq!(info.json["http_url"], json!(api.emu.http_url()));
    assert_eq!(info.json["tenant_id"], DEFAULT_TENANT_ID);
    assert_eq!(info.json["operator_client_id"], DEFAULT_OPERATOR_CLIENT_ID);
    assert_eq!(info.json["issuer"], PULUMI_ISSUER);
    assert_eq!(
        info.json["graph_url"],
        json!(format!("{}/v1.0", api.emu.https_url()))
    );
    let trusted = info.json["trusted_issuers"].as_array().unwrap();
    assert!(trusted.contains(&json!(format!("{}/oidc", api.emu.https_url()))));

    // State reflects what the services hold.
    let app = api.create_app("pulumi-state").await;
    let r = api
        .post_credential(
            app["id"].as_str().unwrap(),
            credential(
                "c-1",
                PULUMI_ISSUER,
                "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write",
                "contoso",
            ),
        )
        .await;
    assert_eq!(r.status, 201);
    let state = api
        .send(Method::GET, &admin("state"), None, None, &[])
        .await;
    assert_eq!(state.status, 200);
    assert_eq!(state.json, api.emu.state());
    assert_eq!(state.json["applications"][0]["id"], app["id"]);
    assert_eq!(
        state.json["applications"][0]["federatedIdentityCredentials"][0]["name"],
        "c-1"
    );
    for key in [
        "servicePrincipals",
        "roleAssignments",
        "deploymentSettings",
        "environments",
    ] {
        assert!(!state.json[key].is_null(), "{key}");
    }

    // Mint through HTTP, then exchange it.
    api.create_sp(app["appId"].as_str().unwrap()).await;
    let body = json!({"target": {"kind": "deployment", "org": "contoso", "project": "core", "stack": "dev"}, "operation": "update"});
    let minted = api
        .send(Method::POST, &admin("mint"), None, Some(&body), &[])
        .await;
    assert_eq!(minted.status, 200, "{}", minted.text);
    let token = minted.json["token"].as_str().unwrap();
    let r = api
        .exchange(app["appId"].as_str().unwrap(), token, ARM_SCOPE)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let bad = api
        .send(
            Method::POST,
            &admin("mint"),
            None,
            Some(&json!({"target": {}, "surprise": 1})),
            &[],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.json["message"].is_string());

    // Faults: read, set, refuse nonsense.
    let faults = api
        .send(Method::GET, &admin("faults"), None, None, &[])
        .await;
    assert_eq!(faults.status, 200);
    assert_eq!(faults.json["faults"]["throttle_rate"], 0.0);
    assert_eq!(faults.json["replication"]["lag_ms"], 0);
    let update =
        json!({"faults": {"latency_ms": 1}, "replication": {"lag_ms": 5, "fic_propagation_ms": 7}});
    let put = api
        .send(Method::PUT, &admin("faults"), None, Some(&update), &[])
        .await;
    assert_eq!(put.status, 204, "{}", put.text);
    let faults = api
        .send(Method::GET, &admin("faults"), None, None, &[])
        .await;
    assert_eq!(faults.json["faults"]["latency_ms"], 1);
    assert_eq!(
        faults.json["replication"],
        json!({"lag_ms": 5, "fic_propagation_ms": 7})
    );
    for nonsense in [
        json!({"faults": {"throttle_rate": 2.0}}),
        json!({"faults": {"throttle_rate": 0.6, "drop_rate": 0.6}}),
        json!({"faults": {"no_such_fault": 1}}),
        json!({"flood": true}),
    ] {
        let r = api
            .send(Method::PUT, &admin("faults"), None, Some(&nonsense), &[])
            .await;
        assert_eq!(r.status, 400, "{nonsense}: {}", r.text);
    }
    let reset = json!({"faults": {}, "replication": {}});
    assert_eq!(
        api.send(Method::PUT, &admin("faults"), None, Some(&reset), &[])
            .await
            .status,
        204
    );

    // Stats count requests by kind; admin calls are not counted; reset empties them.
    let stats = api
        .send(Method::GET, &admin("stats"), None, None, &[])
        .await;
    assert_eq!(stats.status, 200);
    let by_kind = &stats.json["by_kind"];
    assert_eq!(by_kind["sts.client_secret"], 2, "{}", stats.text);
    assert_eq!(by_kind["sts.client_assertion"], 1);
    assert_eq!(by_kind["graph.applications.create"], 1);
    assert_eq!(by_kind["graph.servicePrincipals.create"], 1);
    assert_eq!(by_kind["graph.fic.create"], 1);
    assert_eq!(stats.json["requests"], 6, "{}", stats.text);
    assert_eq!(stats.json["write_requests"], 3);
    assert_eq!(stats.json["mutations"], 3);
    assert_eq!(stats.json["faults"], json!({}));
    assert_eq!(stats.json, api.emu.stats());
    let reset = api
        .send(Method::POST, &admin("stats/reset"), None, None, &[])
        .await;
    assert_eq!(reset.status, 204);
    let stats = api
        .send(Method::GET, &admin("stats"), None, None, &[])
        .await;
    assert_eq!(stats.json["requests"], 0);
    assert_eq!(stats.json["by_kind"], json!({}));
    let missing = api.send(Method::GET, &admin("nope"), None, None, &[]).await;
    assert_eq!(missing.status, 404);
    // Paths no service owns.
    let unknown = api
        .send(
            Method::GET,
            &format!("{}/nothing", api.base),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(unknown.status, 404);
}
