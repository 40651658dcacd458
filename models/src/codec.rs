//! The request encoding of every server function that takes a JSON body.
//!
//! [`StrictJson`] is server_fn's `Json` (a `POST` with a JSON body) that
//! refuses fields the function does not take, naming them: a misspelt field
//! must not be silently ignored (`{"monthly_usd": "-5"}` sent to `budget/set`
//! would clear the budget). The server-function macro generates the argument
//! struct and accepts no `#[serde(deny_unknown_fields)]` on it, so the check
//! is made here, against the field names the struct's own `Deserialize`
//! declares. DTOs nested in the arguments carry `deny_unknown_fields` themselves.

use serde::de::{self, DeserializeOwned, IgnoredAny, Visitor};
use serde::Serialize;
use server_fn::codec::Post;
use server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use std::collections::HashMap;

/// The largest request body the server reads (the JSON endpoints' bodies are
/// a few hundred bytes; a connection string is the longest field).
pub const MAX_REQUEST_BODY_BYTES: usize = 1024 * 1024;

/// The 413 answered for a body over [`MAX_REQUEST_BODY_BYTES`].
pub fn body_too_large() -> crate::AppError {
    crate::AppError::PayloadTooLarge {
        message: format!(
            "The request body is larger than {} MB, the most this server accepts.",
            MAX_REQUEST_BODY_BYTES / (1024 * 1024)
        ),
    }
}

/// Arguments as a JSON body of a `POST`; unknown fields are refused.
pub type StrictJson = Post<StrictJsonEncoding>;

/// JSON with [`serde_json`], refusing unknown top-level fields when decoding.
pub struct StrictJsonEncoding;

impl ContentType for StrictJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for StrictJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for StrictJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for StrictJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        decode_strict(&bytes)
    }
}

/// Parses `bytes` as `T`, first refusing any top-level key `T` does not
/// declare (serde's own "unknown field `x`, expected ..." error, which
/// [`crate::AppError`] turns into a 400 naming the field).
pub fn decode_strict<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    if let Some(fields) = field_names::<T>() {
        // Not an object: let the real parse below say what is wrong.
        if let Ok(keys) = serde_json::from_slice::<HashMap<String, IgnoredAny>>(bytes) {
            let mut unknown: Vec<&String> = keys
                .keys()
                .filter(|k| !fields.contains(&k.as_str()))
                .collect();
            unknown.sort();
            if let Some(first) = unknown.first() {
                return Err(de::Error::unknown_field(first, fields));
            }
        }
    }
    serde_json::from_slice(bytes)
}

/// The field names a derived `Deserialize` of a struct declares (with their
/// `rename`s), or `None` for anything that is not a plain struct (a map, a
/// struct with a flattened field): those are not checked.
pub fn field_names<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    // The probe always fails (it holds no data); it only records the fields.
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields
}

struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> de::Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only the field names are read"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("only the field names are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Args {
        #[serde(default)]
        usd: Option<String>,
        #[serde(rename = "connectionId", default)]
        connection_id: Option<String>,
    }

    #[test]
    fn unknown_fields_are_named_and_known_ones_pass() {
        assert_eq!(field_names::<Args>(), Some(&["usd", "connectionId"][..]));
        let err = decode_strict::<Args>(br#"{"monthly_usd": "-5"}"#).expect_err("refused");
        assert!(
            err.to_string().contains("unknown field `monthly_usd`"),
            "{err}"
        );
        let args: Args = decode_strict(br#"{"usd": "5", "connectionId": "c"}"#).expect("known");
        assert_eq!(args.usd.as_deref(), Some("5"));
        let empty: Args = decode_strict(b"{}").expect("defaults");
        assert_eq!(empty.usd, None);
        assert!(decode_strict::<Args>(b"[1]").is_err());
        // Not a struct: nothing to compare against.
        assert_eq!(field_names::<HashMap<String, String>>(), None);
        let message =
            crate::AppError::bad_request(crate::error::describe_bad_body(&err.to_string()));
        assert!(message.message().contains("\"monthly_usd\""), "{message:?}");
    }
}
