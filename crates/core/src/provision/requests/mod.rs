//! The request each remote operation sends, and how its answer is read: Graph
//! (azure-facts.md §1), ARM role assignments (§4), the Entra token endpoint (§6) and
//! Pulumi Cloud (pulumi-oidc-facts.md §3), one module each. Paths are relative to the
//! service's base URL (see [`Request::url`](super::Request::url)).

use serde_json::Value;

use super::request::{Answer, Request};
use crate::error::Result;

/// Ids of an app, as Graph returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIds {
    /// The object id.
    pub id: String,
    /// The application (client) id.
    pub app_id: String,
}

impl AppIds {
    /// The ids in a Graph application object, if it has both.
    pub fn of(v: &Value) -> Option<Self> {
        Some(Self {
            id: v["id"].as_str()?.to_owned(),
            app_id: v["appId"].as_str()?.to_owned(),
        })
    }
}

/// A string inside an OData literal: quotes doubled.
pub fn quote(value: &str) -> String {
    value.replace('\'', "''")
}

/// A query parameter or path segment, form-urlencoded as the WHATWG URL standard's
/// `application/x-www-form-urlencoded` serializer writes it: letters, digits and
/// `*-._` as they are, a space as `+`, every other byte as `%XX`. Written out rather
/// than with `form_urlencoded`, whose 768-byte table of `%XX` texts the page's module
/// would carry for the few ids a request preview encodes.
pub(crate) fn enc(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out
}

/// `Ok` when the status is one of `ok`, else the service's error.
pub fn expect(answer: Answer, request: &Request, ok: &[u16]) -> Result<()> {
    if ok.contains(&answer.status) {
        Ok(())
    } else {
        Err(answer.into_error(request.service, &request.operation))
    }
}

/// 200 → the body, 404 → `None`, else the error.
pub fn read_optional(answer: Answer, request: &Request) -> Result<Option<Value>> {
    match answer.status {
        200 => Ok(Some(answer.json())),
        404 => Ok(None),
        _ => Err(answer.into_error(request.service, &request.operation)),
    }
}

/// How an upsert (`Prefer: create-if-missing`) answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted<T> {
    /// 201: created, with what the answer holds.
    Created(T),
    /// 204: it existed and was updated; read it (with [`read_after_upsert`]) for its ids.
    Existed,
}

mod arm;
mod batch;
mod entra;
mod graph;
mod identity;
mod pulumi;

pub use arm::*;
pub use batch::*;
pub use entra::*;
pub use graph::*;
pub use identity::*;
pub use pulumi::*;

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn encodes_as_form_urlencoded_does(value in "\\PC{0,12}|[ -~]{0,12}") {
            let expected: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            proptest::prop_assert_eq!(enc(&value), expected);
        }
    }

    #[test]
    fn every_byte_is_encoded_as_form_urlencoded_does() {
        for c in (0..=0x7f_u8).map(char::from).chain(['é', '€', '😀']) {
            let value = format!("a{c}b");
            let expected: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            assert_eq!(enc(&value), expected, "{c:?}");
        }
    }
    use crate::provision::{Endpoints, WaitOut};
    use serde_json::json;

    #[test]
    fn requests_name_their_objects_by_key() {
        let e = Endpoints::default().all_at("https://127.0.0.1:1");
        let r = upsert_app("pulumi-oidc-contoso-1", json!({}));
        assert_eq!(
            r.url(&e),
            "https://127.0.0.1:1/v1.0/applications(uniqueName='pulumi-oidc-contoso-1')"
        );
        assert_eq!(r.headers, vec![("prefer", "create-if-missing".to_owned())]);
        let r = create_role_assignment("/subscriptions/s/", "n", "/rd", "p", "Reader");
        assert_eq!(
            r.url(&e),
            "https://127.0.0.1:1/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/n?api-version=2022-04-01"
        );
        assert_eq!(r.wait_out, WaitOut::PrincipalReplication);
        let r = get_settings("o", "p", "s");
        assert_eq!(
            r.url(&e),
            "https://127.0.0.1:1/api/stacks/o/p/s/deployments/settings"
        );
    }

    #[test]
    fn an_arm_next_link_becomes_a_request_again() {
        let e = Endpoints::default();
        let first = list_role_assignments("/subscriptions/s", "p");
        let answer = Answer {
            status: 200,
            headers: Vec::new(),
            body: br#"{"value": [], "nextLink": "https://management.azure.com/subscriptions/s/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$skiptoken=abc"}"#.to_vec(),
        };
        let (items, next) = read_role_assignments_page(answer, &first, &e.arm).expect("a page");
        assert!(items.is_empty());
        let next = next.expect("a next page");
        assert_eq!(
            next.url(&e),
            "https://management.azure.com/subscriptions/s/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$skiptoken=abc"
        );
        let moved = Endpoints::default().all_at("https://127.0.0.1:9");
        let answer = Answer {
            status: 200,
            headers: Vec::new(),
            body: br#"{"value": [], "nextLink": "https://127.0.0.1:9/subscriptions/s/providers/Microsoft.Authorization/roleAssignments?$skiptoken=x"}"#.to_vec(),
        };
        let (_, next) = read_role_assignments_page(answer, &first, &moved.arm).expect("a page");
        assert_eq!(
            next.expect("a next page").url(&moved),
            "https://127.0.0.1:9/subscriptions/s/providers/Microsoft.Authorization/roleAssignments?$skiptoken=x"
        );
    }

    #[test]
    fn odata_literals_and_filters_are_escaped() {
        let r = get_app("it's");
        assert_eq!(r.path, "applications(uniqueName='it''s')");
        let r = list_apps_tagged("a b");
        assert!(
            r.path
                .starts_with("applications?$filter=tags%2Fany%28t%3At+eq+%27a+b%27%29"),
            "{}",
            r.path
        );
    }

    #[test]
    fn a_form_never_shows_its_values() {
        let r = exchange_token("t", "c", "secret-assertion", "s");
        let shown = format!("{r:?} {}", serde_json::to_string(&r).unwrap_or_default());
        assert!(!shown.contains("secret-assertion"), "{shown}");
    }
}
