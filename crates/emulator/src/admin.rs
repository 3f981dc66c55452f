//! `/_emulator/…`: what tests and the demo use to inspect and steer the emulator.
//! Never faulted, never authenticated (it listens on loopback only by default).

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::faults::{FaultOptions, Replication};
use crate::http::{Req, plain_json};
use crate::mint::{self, MintRequest};
use crate::shared::{Shared, lock};
use crate::state::Stats;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultUpdate {
    faults: Option<FaultOptions>,
    replication: Option<Replication>,
}

fn bad(message: &str) -> Response {
    plain_json(StatusCode::BAD_REQUEST, &json!({"message": message}))
}

pub(crate) fn handle(shared: &Shared, _base: &str, req: &Req) -> Response {
    let rest: Vec<&str> = req.segments.iter().skip(1).map(String::as_str).collect();
    match (rest.as_slice(), &req.method) {
        (["info"], &Method::GET) => plain_json(StatusCode::OK, &shared.info()),
        (["stats"], &Method::GET) => plain_json(StatusCode::OK, &lock(&shared.stats).to_json()),
        (["stats", "reset"], &Method::POST) => {
            *lock(&shared.stats) = Stats::default();
            StatusCode::NO_CONTENT.into_response()
        }
        (["state"], &Method::GET) => plain_json(StatusCode::OK, &lock(&shared.dir).snapshot()),
        (["mint"], &Method::POST) => match serde_json::from_slice::<MintRequest>(&req.body) {
            Ok(m) => match mint::mint(&shared.keys, &shared.default_issuer(), &m) {
                Ok(token) => plain_json(StatusCode::OK, &json!({"token": token})),
                Err(e) => bad(&e),
            },
            Err(e) => bad(&format!("invalid mint request: {e}")),
        },
        (["faults"], &Method::GET) => plain_json(
            StatusCode::OK,
            &json!({"faults": lock(&shared.faults).options(), "replication": shared.replication()}),
        ),
        (["faults"], &Method::PUT) => match serde_json::from_slice::<FaultUpdate>(&req.body) {
            Ok(update) => {
                if let Some(f) = update.faults {
                    if let Err(e) = f.validate() {
                        return bad(&e);
                    }
                    lock(&shared.faults).set_options(f);
                }
                if let Some(r) = update.replication {
                    *lock(&shared.replication) = r;
                }
                StatusCode::NO_CONTENT.into_response()
            }
            Err(e) => bad(&format!("invalid fault settings: {e}")),
        },
        _ => plain_json(StatusCode::NOT_FOUND, &Value::Null),
    }
}
