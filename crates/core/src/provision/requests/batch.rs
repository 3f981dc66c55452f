//! Graph JSON batching: many Graph requests in one round trip, each answered on its
//! own (microsoft-graph-docs-contrib `concepts/json-batching.md`).
//!
//! The answers come in any order and each carries its own status, so a batch is read
//! back into one plain [`Answer`] per request, in the order the requests were given;
//! the executor then judges and retries each as if it had been sent alone. Inner
//! requests are not retried by Graph or by its SDKs, so a throttled one comes back as
//! its own 429 with its own `Retry-After`.

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::provision::request::{Answer, Body, Method, Request, Service};

/// "JSON batch requests are currently limited to 20 individual requests."
pub const BATCH_LIMIT: usize = 20;

/// The path of the batch endpoint below the Graph version.
const BATCH_PATH: &str = "$batch";

fn unreadable(operation: &str, message: String) -> Error {
    Error::Service {
        service: Service::Graph.name(),
        operation: operation.to_owned(),
        status: 200,
        code: "unreadable_response".into(),
        message,
    }
}

/// One `POST /$batch` carrying `requests` (at most [`BATCH_LIMIT`], all Graph), each
/// with its position as its id. Read the answer with [`read_batch`].
pub fn batch(requests: &[Request]) -> Request {
    let items: Vec<Value> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut headers: Map<String, Value> = r
                .headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
                .collect();
            let mut item = json!({
                "id": i.to_string(),
                "method": r.method.as_str(),
                "url": format!("/{}", r.path),
            });
            match &r.body {
                Some(Body::Json(v)) => {
                    // A body needs its content type named, or Graph refuses the batch.
                    headers.insert("Content-Type".into(), json!("application/json"));
                    item["body"] = v.clone();
                }
                Some(Body::Yaml(_) | Body::Form(_)) | None => {}
            }
            if !headers.is_empty() {
                item["headers"] = Value::Object(headers);
            }
            item
        })
        .collect();
    let operation = match requests {
        [only] => only.operation.clone(),
        [first, ..] => format!(
            "{} and {} more in one batch",
            first.operation,
            requests.len() - 1
        ),
        [] => "an empty batch".to_owned(),
    };
    Request::new(
        Service::Graph,
        operation,
        Method::Post,
        BATCH_PATH.to_owned(),
    )
    .json(json!({ "requests": items }))
}

/// [`batch`] with each request depending on the one before it: Graph runs them in
/// order and fails every request after a failed one with 424, so a chain of writes
/// that must go one at a time (an app's credentials, which Entra takes one at a time)
/// costs one round trip.
pub fn chained_batch(requests: &[Request]) -> Request {
    let mut b = batch(requests);
    if let Some(Body::Json(body)) = &mut b.body
        && let Some(items) = body["requests"].as_array_mut()
    {
        for (i, item) in items.iter_mut().enumerate().skip(1) {
            item["dependsOn"] = json!([(i - 1).to_string()]);
        }
    }
    b
}

/// Whether `request` is a batch made by [`batch`].
pub fn is_batch(request: &Request) -> bool {
    request.service == Service::Graph && request.path == BATCH_PATH
}

/// The answers to the `count` requests of `batch`, in the order they were given.
pub fn read_batch(answer: Answer, batch: &Request, count: usize) -> Result<Vec<Answer>> {
    if !answer.ok() {
        return Err(answer.into_error(batch.service, &batch.operation));
    }
    let v = answer.json();
    let Some(responses) = v["responses"].as_array() else {
        return Err(unreadable(
            &batch.operation,
            "the batch answer has no responses".into(),
        ));
    };
    let mut out: Vec<Option<Answer>> = vec![None; count];
    for r in responses {
        let index = r["id"]
            .as_str()
            .and_then(|id| id.parse::<usize>().ok())
            .filter(|i| *i < count);
        let (Some(index), Some(status)) = (index, r["status"].as_u64()) else {
            return Err(unreadable(
                &batch.operation,
                format!(
                    "the batch answer names a request it was not sent: {}",
                    r["id"]
                ),
            ));
        };
        let headers: Vec<(String, String)> = r["headers"]
            .as_object()
            .map(|h| {
                h.iter()
                    .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        out[index] = Some(Answer {
            status: u16::try_from(status).unwrap_or(500),
            body: inner_body(&r["body"], &headers),
            headers,
        });
    }
    out.into_iter()
        .enumerate()
        .map(|(i, a)| {
            a.ok_or_else(|| {
                unreadable(
                    &batch.operation,
                    format!("the batch answer lacks request {i}"),
                )
            })
        })
        .collect()
}

/// An inner body as the bytes it would have had alone: JSON as JSON, anything else
/// as Graph sends it, base64-encoded in a string.
fn inner_body(body: &Value, headers: &[(String, String)]) -> Vec<u8> {
    let json_type = headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .is_none_or(|(_, v)| v.contains("json"));
    match body {
        Value::Null => Vec::new(),
        Value::String(s) if !json_type => base64::engine::general_purpose::STANDARD
            .decode(s)
            .unwrap_or_else(|_| s.clone().into_bytes()),
        v => v.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::requests::{AppIds, get_sp, list_credentials, upsert_credential};

    fn answer(body: Value) -> Answer {
        Answer {
            status: 200,
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn a_batch_carries_each_request_with_its_position_as_id() {
        let app = AppIds {
            id: "o1".into(),
            app_id: "a1".into(),
        };
        let requests = [
            list_credentials(&app, "one"),
            upsert_credential(&app, "one", "c", json!({"name": "c"})),
        ];
        let b = batch(&requests);
        assert!(is_batch(&b));
        assert_eq!((b.method, b.path.as_str()), (Method::Post, "$batch"));
        let Some(Body::Json(body)) = &b.body else {
            panic!("a JSON body");
        };
        assert_eq!(
            body["requests"][0],
            json!({"id": "0", "method": "GET", "url": "/applications/o1/federatedIdentityCredentials"})
        );
        let second = &body["requests"][1];
        assert_eq!(second["method"], "PATCH");
        assert_eq!(second["headers"]["Content-Type"], "application/json");
        assert_eq!(second["headers"]["prefer"], "create-if-missing");
        assert_eq!(second["body"], json!({"name": "c"}));
        assert!(
            b.operation.ends_with("and 1 more in one batch"),
            "{}",
            b.operation
        );
    }

    #[test]
    fn a_chained_batch_makes_each_request_wait_for_the_one_before() {
        let b = chained_batch(&[get_sp("a"), get_sp("b"), get_sp("c")]);
        let Some(Body::Json(body)) = &b.body else {
            panic!("a JSON body");
        };
        assert!(body["requests"][0].get("dependsOn").is_none());
        assert_eq!(body["requests"][1]["dependsOn"], json!(["0"]));
        assert_eq!(body["requests"][2]["dependsOn"], json!(["1"]));
    }

    #[test]
    fn answers_come_back_in_request_order_whatever_order_they_arrive_in() {
        let requests = [get_sp("a"), get_sp("b"), get_sp("c")];
        let b = batch(&requests);
        let got = read_batch(
            answer(json!({"responses": [
                {"id": "2", "status": 404, "headers": {"Content-Type": "application/json"}, "body": {"error": {"code": "Request_ResourceNotFound", "message": "gone"}}},
                {"id": "0", "status": 200, "body": {"id": "sp-a"}},
                {"id": "1", "status": 429, "headers": {"Retry-After": "3"}, "body": {"error": {"code": "TooManyRequests", "message": "later"}}},
            ]})),
            &b,
            3,
        )
        .expect("answers");
        assert_eq!(got[0].json()["id"], "sp-a");
        assert_eq!(
            (got[1].status, got[1].header("retry-after")),
            (429, Some("3"))
        );
        assert_eq!(got[2].error_code(), "Request_ResourceNotFound");
    }

    #[test]
    fn a_missing_or_foreign_answer_is_an_error() {
        let requests = [get_sp("a"), get_sp("b")];
        let b = batch(&requests);
        let missing = read_batch(
            answer(json!({"responses": [{"id": "0", "status": 200, "body": {}}]})),
            &b,
            2,
        );
        assert!(
            matches!(missing, Err(Error::Service { code, .. }) if code == "unreadable_response")
        );
        let foreign = read_batch(
            answer(json!({"responses": [{"id": "7", "status": 200}]})),
            &b,
            2,
        );
        assert!(foreign.is_err());
    }

    #[test]
    fn a_non_json_body_is_decoded_from_base64() {
        let b = batch(&[get_sp("a")]);
        let got = read_batch(
            answer(json!({"responses": [{"id": "0", "status": 200, "headers": {"content-type": "text/plain"}, "body": "aGVsbG8="}]})),
            &b,
            1,
        )
        .expect("answers");
        assert_eq!(got[0].body, b"hello");
    }
}
