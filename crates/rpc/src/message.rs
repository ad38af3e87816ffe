//! JSON-RPC 1.0 messages as OVSDB uses them (RFC 7047 §4): requests,
//! notifications, replies and errors, with the validation rules and error
//! texts of upstream's reader and the member order of upstream's writer.

use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// One JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A call that expects a reply with the same `id`.
    Request {
        method: String,
        params: Vec<Value>,
        id: Value,
    },
    /// A call without reply (`"id": null` on the wire).
    Notify { method: String, params: Vec<Value> },
    /// A successful answer.
    Reply { result: Value, id: Value },
    /// A failed answer.
    Error { error: Value, id: Value },
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The id of a probe sent by a session; replies to it are consumed there.
pub const ECHO_ID: &str = "echo";

impl Message {
    /// A request with the next id of this process (0, 1, 2, ... as upstream).
    pub fn request(method: impl Into<String>, params: Vec<Value>) -> Message {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Message::Request {
            method: method.into(),
            params,
            id: Value::from(id),
        }
    }

    /// A notification.
    pub fn notify(method: impl Into<String>, params: Vec<Value>) -> Message {
        Message::Notify {
            method: method.into(),
            params,
        }
    }

    /// A reply to the request with `id`.
    pub fn reply(result: Value, id: Value) -> Message {
        Message::Reply { result, id }
    }

    /// An error answer to the request with `id`.
    pub fn error(error: Value, id: Value) -> Message {
        Message::Error { error, id }
    }

    /// The inactivity probe a session sends.
    pub fn echo_probe() -> Message {
        Message::Request {
            method: "echo".into(),
            params: Vec::new(),
            id: Value::from(ECHO_ID),
        }
    }

    /// Upstream's name of the message type, as used in error texts.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Request { .. } => "request",
            Message::Notify { .. } => "notification",
            Message::Reply { .. } => "reply",
            Message::Error { .. } => "error",
        }
    }

    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request { method, .. } | Message::Notify { method, .. } => Some(method),
            _ => None,
        }
    }

    /// The id, for requests, replies and errors.
    pub fn id(&self) -> Option<&Value> {
        match self {
            Message::Request { id, .. } | Message::Reply { id, .. } | Message::Error { id, .. } => {
                Some(id)
            }
            Message::Notify { .. } => None,
        }
    }

    /// Reads a message from a parsed JSON text, with upstream's checks and
    /// error texts (e.g. `request must have "params"`).
    pub fn from_json(json: Value) -> Result<Message, String> {
        let Value::Object(mut obj) = json else {
            return Err("message is not a JSON object".into());
        };
        let method = match obj.remove("method") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err("method is not a JSON string".into()),
        };
        let params = obj.remove("params");
        let result = obj.remove("result").filter(|v| !v.is_null());
        let error = obj.remove("error").filter(|v| !v.is_null());
        let id = obj.remove("id").filter(|v| !v.is_null());
        if let Some((name, _)) = obj.iter().next() {
            return Err(format!("message has unexpected member \"{name}\""));
        }
        let params = match params {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(a),
            Some(_) => return Err("\"params\" must be JSON array".into()),
        };
        let type_name = if result.is_some() {
            "reply"
        } else if error.is_some() {
            "error"
        } else if id.is_some() {
            "request"
        } else {
            "notification"
        };
        // Which members each type must (true) or must not (false) have, in
        // upstream's checking order.
        let pattern: [bool; 5] = match type_name {
            "request" => [true, true, false, false, true],
            "notification" => [true, true, false, false, false],
            "reply" => [false, false, true, false, true],
            _ => [false, false, false, true, true],
        };
        let present = [
            method.is_some(),
            params.is_some(),
            result.is_some(),
            error.is_some(),
            id.is_some(),
        ];
        let names = ["method", "params", "result", "error", "id"];
        for i in 0..5 {
            if present[i] != pattern[i] {
                let must = if pattern[i] { "" } else { " not" };
                return Err(format!("{type_name} must{must} have \"{}\"", names[i]));
            }
        }
        Ok(match (method, params, result, error, id) {
            (Some(method), Some(params), None, None, Some(id)) => {
                Message::Request { method, params, id }
            }
            (Some(method), Some(params), None, None, None) => Message::Notify { method, params },
            (None, None, Some(result), None, Some(id)) => Message::Reply { result, id },
            (None, None, None, Some(error), Some(id)) => Message::Error { error, id },
            _ => return Err("message is not a valid JSON-RPC message".into()),
        })
    }

    /// The message as JSON, members inserted in upstream's order (method,
    /// params, result, error, id); see [`Message::to_bytes`] for the text.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        match self {
            Message::Request { method, params, id } => {
                m.insert("method".into(), Value::String(method.clone()));
                m.insert("params".into(), Value::Array(params.clone()));
                m.insert("id".into(), id.clone());
            }
            Message::Notify { method, params } => {
                m.insert("method".into(), Value::String(method.clone()));
                m.insert("params".into(), Value::Array(params.clone()));
                m.insert("id".into(), Value::Null);
            }
            Message::Reply { result, id } => {
                m.insert("result".into(), result.clone());
                m.insert("error".into(), Value::Null);
                m.insert("id".into(), id.clone());
            }
            Message::Error { error, id } => {
                m.insert("error".into(), error.clone());
                m.insert("id".into(), id.clone());
            }
        }
        Value::Object(m)
    }

    /// The message serialized for the wire, byte for byte as upstream
    /// writes it (objects in OVS hash order).
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::json_text::to_string(&self.to_json()).into_bytes()
    }

    /// Upstream's debug description: `request, method="echo", params=[], id=0`.
    pub fn describe(&self) -> String {
        self.description().to_string()
    }

    /// [`Message::describe`] formatted only when displayed (for debug logs
    /// that are usually off).
    pub fn description(&self) -> Description<'_> {
        Description(self)
    }
}

/// A message's debug description, formatted lazily ([`Message::description`]).
pub struct Description<'a>(&'a Message);

impl std::fmt::Display for Description<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params = |f: &mut std::fmt::Formatter<'_>, params: &[Value]| {
            f.write_str("[")?;
            for (i, p) in params.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{p}")?;
            }
            f.write_str("]")
        };
        f.write_str(self.0.type_name())?;
        match self.0 {
            Message::Request {
                method,
                params: p,
                id,
            } => {
                write!(f, ", method=\"{method}\", params=")?;
                params(f, p)?;
                write!(f, ", id={id}")
            }
            Message::Notify { method, params: p } => {
                write!(f, ", method=\"{method}\", params=")?;
                params(f, p)
            }
            Message::Reply { result, id } => write!(f, ", result={result}, id={id}"),
            Message::Error { error, id } => write!(f, ", error={error}, id={id}"),
        }
    }
}

/// Upstream's name of a JSON value's type ("number" for integers and reals).
pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(false) => "false",
        Value::Bool(true) => "true",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(s: &str) -> Result<Message, String> {
        Message::from_json(serde_json::from_str(s).unwrap())
    }

    #[test]
    fn the_four_kinds() {
        assert_eq!(
            parse(r#"{"id":0,"method":"version","params":[]}"#),
            Ok(Message::Request {
                method: "version".into(),
                params: vec![],
                id: json!(0)
            })
        );
        assert_eq!(
            parse(r#"{"id":null,"method":"update","params":[1]}"#),
            Ok(Message::notify("update", vec![json!(1)]))
        );
        assert_eq!(
            parse(r#"{"id":"x","result":"ok","error":null}"#),
            Ok(Message::reply(json!("ok"), json!("x")))
        );
        assert_eq!(
            parse(r#"{"id":3,"error":{"error":"bad"},"result":null}"#),
            Ok(Message::error(json!({"error":"bad"}), json!(3)))
        );
    }

    #[test]
    fn upstream_error_texts() {
        assert_eq!(parse("[1,2]"), Err("message is not a JSON object".into()));
        assert_eq!(
            parse(r#"{"id":1,"method":"version"}"#),
            Err("request must have \"params\"".into())
        );
        assert_eq!(
            parse(r#"{"id":0,"result":"a","error":"b"}"#),
            Err("reply must not have \"error\"".into())
        );
        assert_eq!(
            parse(r#"{"id":0,"method":5,"params":[]}"#),
            Err("method is not a JSON string".into())
        );
        assert_eq!(
            parse(r#"{"id":0,"method":"m","params":{}}"#),
            Err("\"params\" must be JSON array".into())
        );
        assert_eq!(
            parse(r#"{"id":0,"method":"m","params":[],"x":1}"#),
            Err("message has unexpected member \"x\"".into())
        );
        assert_eq!(
            parse(r#"{"params":[]}"#),
            Err("notification must have \"method\"".into())
        );
        assert_eq!(
            parse(r#"{"id":1,"result":1,"method":"m"}"#),
            Err("reply must not have \"method\"".into())
        );
    }

    #[test]
    fn wire_form_matches_upstream() {
        let req = Message::Request {
            method: "foo/bar".into(),
            params: vec![json!("a"), json!("q\"")],
            id: json!(0),
        };
        assert_eq!(
            String::from_utf8(req.to_bytes()).unwrap(),
            r#"{"id":0,"method":"foo/bar","params":["a","q\""]}"#
        );
        let text = |m: Message| String::from_utf8(m.to_bytes()).unwrap();
        assert_eq!(
            text(Message::reply(json!("v\n"), json!(7))),
            r#"{"id":7,"result":"v\n","error":null}"#
        );
        assert_eq!(
            text(Message::error(json!("e"), json!(8))),
            r#"{"id":8,"error":"e"}"#
        );
        assert_eq!(
            text(Message::notify("n", vec![])),
            r#"{"id":null,"method":"n","params":[]}"#
        );
        for m in [req, Message::notify("n", vec![json!(1)])] {
            assert_eq!(Message::from_json(m.to_json()), Ok(m));
        }
    }

    #[test]
    fn describe_like_upstream_debug_log() {
        let m = Message::Request {
            method: "version".into(),
            params: vec![],
            id: json!(0),
        };
        assert_eq!(
            m.describe(),
            r#"request, method="version", params=[], id=0"#
        );
        let n = Message::notify("update", vec![json!(null), json!({"a": [1, 2]})]);
        assert_eq!(
            n.describe(),
            r#"notification, method="update", params=[null,{"a":[1,2]}]"#
        );
        assert_eq!(
            Message::reply(json!("x\n"), json!(0)).describe(),
            r#"reply, result="x\n", id=0"#
        );
    }
}
