//! Request validation that answers like pydantic v2 under FastAPI: every problem in the path,
//! the query and the body collected into one 422 list of `{type, loc, msg, input[, ctx]}`.
//!
//! Stricter than pydantic in two chosen ways, because the simulator exists to catch contract
//! bugs in the client: unknown body fields and unknown query parameters are refused
//! (`extra_forbidden`) instead of ignored, and booleans and strings are not coerced from other
//! JSON types.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::ApiError;

/// The JSON type a body field must have (`null` is governed by [`Field::nullable`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Str,
    /// A string of at least one character (`constr(min_length=1)`).
    NonEmptyStr,
    /// An integer greater than 0 (`conint(gt=0)`); a JSON integer only, not `5.0` or `"5"`.
    PositiveInt,
    Bool,
    Object,
    /// An object whose values are all objects.
    ObjectOfObjects,
    StrList,
    /// A list of strings, or one string.
    StrOrStrList,
    /// One of the given strings.
    OneOf(&'static [&'static str]),
}

/// One field of a request body model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub nullable: bool,
}

impl Field {
    /// Must be present, and not `null`.
    pub const fn required(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            required: true,
            nullable: false,
        }
    }

    /// May be absent or `null` (`Optional[...] = None`).
    pub const fn optional(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            required: false,
            nullable: true,
        }
    }

    /// Must be present, and may be `null` (`Optional[...]` without a default).
    pub const fn required_nullable(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            required: true,
            nullable: true,
        }
    }

    /// May be absent, but not `null` (a field with a non-null default).
    pub const fn defaulted(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            kind,
            required: false,
            nullable: false,
        }
    }
}

/// The query string as name/value pairs, in order.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|raw| serde_urlencoded::from_str::<Vec<(String, String)>>(raw).unwrap_or_default())
            .unwrap_or_default();
        Query { pairs }
    }

    /// The last value given for `name`, as Starlette reads a scalar parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The names given, in order (repeated as often as they are).
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(name, _)| name.as_str())
    }

    /// Every value given for `name` (a list parameter may be repeated).
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Collects validation issues; [`Validator::finish`] turns them into one 422.
///
/// Each check returns a usable placeholder when the input is invalid, so a handler can run all
/// its checks, then `finish()?`, and only then use the values.
#[derive(Debug, Default)]
pub(crate) struct Validator {
    issues: Vec<Value>,
}

impl Validator {
    pub(crate) fn new() -> Validator {
        Validator::default()
    }

    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.issues.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.issues))
        }
    }

    fn issue(
        &mut self,
        kind: &str,
        loc: Vec<Value>,
        msg: String,
        input: Value,
        ctx: Option<Value>,
    ) {
        let mut issue = json!({ "type": kind, "loc": loc, "msg": msg, "input": input });
        if let (Some(ctx), Some(object)) = (ctx, issue.as_object_mut()) {
            object.insert("ctx".to_owned(), ctx);
        }
        self.issues.push(issue);
    }

    /// A path parameter declared as `UUID`.
    pub(crate) fn path_uuid(&mut self, name: &str, raw: &str) -> Uuid {
        match Uuid::parse_str(raw) {
            Ok(id) => id,
            Err(err) => {
                self.issue(
                    "uuid_parsing",
                    vec![json!("path"), json!(name)],
                    format!("Input should be a valid UUID, {err}"),
                    json!(raw),
                    Some(json!({ "error": err.to_string() })),
                );
                Uuid::nil()
            }
        }
    }

    /// A path parameter declared as `int`; 0 (never an id) when it is not an integer.
    ///
    /// An integer too large for an `i64` is still an integer (Python's are unbounded), so it
    /// is no 422: it answers 0 as well, which names nothing, and the route answers its 404.
    pub(crate) fn path_int(&mut self, name: &str, raw: &str) -> i64 {
        let trimmed = raw.trim();
        if let Ok(value) = trimmed.parse::<i64>() {
            return value;
        }
        let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
        if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return 0;
        }
        self.issue(
            "int_parsing",
            vec![json!("path"), json!(name)],
            "Input should be a valid integer, unable to parse string as an integer".to_owned(),
            json!(raw),
            None,
        );
        0
    }

    /// A failed check of the body as a whole (a pydantic `model_validator`), e.g. "at least one
    /// field".
    pub(crate) fn body_value_error(&mut self, body: &Value, message: &str) {
        self.issue(
            "value_error",
            vec![json!("body")],
            format!("Value error, {message}"),
            body.clone(),
            None,
        );
    }

    /// Refuses query parameters the route does not declare.
    pub(crate) fn query_known(&mut self, query: &Query, allowed: &[&str]) {
        for (name, value) in &query.pairs {
            if !allowed.contains(&name.as_str()) {
                self.issue(
                    "extra_forbidden",
                    vec![json!("query"), json!(name)],
                    "Extra inputs are not permitted".to_owned(),
                    json!(value),
                    None,
                );
            }
        }
    }

    /// An integer query parameter with bounds, as `Query(default, ge=min, le=max)`.
    pub(crate) fn query_int(
        &mut self,
        query: &Query,
        name: &str,
        default: u32,
        min: u32,
        max: Option<u32>,
    ) -> u32 {
        let Some(raw) = query.get(name) else {
            return default;
        };
        let loc = vec![json!("query"), json!(name)];
        let Ok(value) = raw.trim().parse::<i64>() else {
            self.issue(
                "int_parsing",
                loc,
                "Input should be a valid integer, unable to parse string as an integer".to_owned(),
                json!(raw),
                None,
            );
            return default;
        };
        if value < i64::from(min) {
            self.issue(
                "greater_than_equal",
                loc,
                format!("Input should be greater than or equal to {min}"),
                json!(raw),
                Some(json!({ "ge": min })),
            );
            return default;
        }
        if let Some(max) = max
            && value > i64::from(max)
        {
            self.issue(
                "less_than_equal",
                loc,
                format!("Input should be less than or equal to {max}"),
                json!(raw),
                Some(json!({ "le": max })),
            );
            return default;
        }
        // Only an unbounded parameter can be larger: past any end, so the largest is as good.
        u32::try_from(value).unwrap_or(u32::MAX)
    }

    /// A boolean query parameter, with pydantic's spellings of true and false.
    pub(crate) fn query_bool(&mut self, query: &Query, name: &str) -> Option<bool> {
        let raw = query.get(name)?;
        match raw.to_ascii_lowercase().as_str() {
            "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
            "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
            _ => {
                self.issue(
                    "bool_parsing",
                    vec![json!("query"), json!(name)],
                    "Input should be a valid boolean, unable to interpret input".to_owned(),
                    json!(raw),
                    None,
                );
                None
            }
        }
    }

    /// A query parameter restricted to some strings.
    pub(crate) fn query_one_of(
        &mut self,
        query: &Query,
        name: &str,
        allowed: &'static [&'static str],
        default: &'static str,
    ) -> &'static str {
        let Some(raw) = query.get(name) else {
            return default;
        };
        match allowed.iter().find(|candidate| **candidate == raw) {
            Some(value) => value,
            None => {
                self.enum_issue(vec![json!("query"), json!(name)], allowed, json!(raw));
                default
            }
        }
    }

    fn enum_issue(&mut self, loc: Vec<Value>, allowed: &[&str], input: Value) {
        let expected = expected_list(allowed);
        self.issue(
            "enum",
            loc,
            format!("Input should be {expected}"),
            input,
            Some(json!({ "expected": expected })),
        );
    }

    /// Checks a JSON body against a model's fields; answers the body's fields when it is an
    /// object (possibly with invalid values, reported), or an empty map otherwise.
    pub(crate) fn body(&mut self, body: Option<&Value>, fields: &[Field]) -> Map<String, Value> {
        let Some(body) = body else {
            self.issue(
                "missing",
                vec![json!("body")],
                "Field required".to_owned(),
                Value::Null,
                None,
            );
            return Map::new();
        };
        let Some(object) = body.as_object() else {
            self.issue(
                "model_attributes_type",
                vec![json!("body")],
                "Input should be a valid dictionary or object to extract fields from".to_owned(),
                body.clone(),
                None,
            );
            return Map::new();
        };
        for field in fields {
            let loc = vec![json!("body"), json!(field.name)];
            match object.get(field.name) {
                None if field.required => self.issue(
                    "missing",
                    loc,
                    "Field required".to_owned(),
                    body.clone(),
                    None,
                ),
                None => {}
                Some(Value::Null) if field.nullable => {}
                Some(value) => self.check_kind(loc, field.kind, value),
            }
        }
        for (name, value) in object {
            if !fields.iter().any(|field| field.name == name) {
                self.issue(
                    "extra_forbidden",
                    vec![json!("body"), json!(name)],
                    "Extra inputs are not permitted".to_owned(),
                    value.clone(),
                    None,
                );
            }
        }
        object.clone()
    }

    fn check_kind(&mut self, loc: Vec<Value>, kind: Kind, value: &Value) {
        let type_issue = |this: &mut Validator, loc: Vec<Value>, kind: &str, msg: &str| {
            this.issue(kind, loc, msg.to_owned(), value.clone(), None);
        };
        match kind {
            Kind::Str | Kind::NonEmptyStr if !value.is_string() => {
                type_issue(self, loc, "string_type", "Input should be a valid string")
            }
            Kind::NonEmptyStr if value.as_str() == Some("") => self.issue(
                "string_too_short",
                loc,
                "String should have at least 1 character".to_owned(),
                value.clone(),
                Some(json!({ "min_length": 1 })),
            ),
            Kind::PositiveInt if !(value.is_i64() || value.is_u64()) => {
                type_issue(self, loc, "int_type", "Input should be a valid integer")
            }
            Kind::PositiveInt if value.as_i64().is_some_and(|number| number <= 0) => self.issue(
                "greater_than",
                loc,
                "Input should be greater than 0".to_owned(),
                value.clone(),
                Some(json!({ "gt": 0 })),
            ),
            Kind::Bool if !value.is_boolean() => {
                type_issue(self, loc, "bool_type", "Input should be a valid boolean")
            }
            Kind::Object if !value.is_object() => {
                type_issue(self, loc, "dict_type", "Input should be a valid dictionary")
            }
            Kind::ObjectOfObjects => match value.as_object() {
                None => type_issue(self, loc, "dict_type", "Input should be a valid dictionary"),
                Some(entries) => {
                    for (key, entry) in entries {
                        if !entry.is_object() {
                            let mut entry_loc = loc.clone();
                            entry_loc.push(json!(key));
                            self.issue(
                                "dict_type",
                                entry_loc,
                                "Input should be a valid dictionary".to_owned(),
                                entry.clone(),
                                None,
                            );
                        }
                    }
                }
            },
            Kind::StrList => self.check_str_list(loc, value),
            Kind::StrOrStrList if value.is_string() => {}
            Kind::StrOrStrList if value.is_array() => self.check_str_list(loc, value),
            Kind::StrOrStrList => type_issue(
                self,
                loc,
                "string_type",
                "Input should be a valid string or a list of strings",
            ),
            Kind::OneOf(allowed) => {
                if !value.as_str().is_some_and(|text| allowed.contains(&text)) {
                    self.enum_issue(loc, allowed, value.clone());
                }
            }
            Kind::Str | Kind::NonEmptyStr | Kind::PositiveInt | Kind::Bool | Kind::Object => {}
        }
    }

    fn check_str_list(&mut self, loc: Vec<Value>, value: &Value) {
        let Some(items) = value.as_array() else {
            self.issue(
                "list_type",
                loc,
                "Input should be a valid list".to_owned(),
                value.clone(),
                None,
            );
            return;
        };
        for (index, item) in items.iter().enumerate() {
            if !item.is_string() {
                let mut item_loc = loc.clone();
                item_loc.push(json!(index));
                self.issue(
                    "string_type",
                    item_loc,
                    "Input should be a valid string".to_owned(),
                    item.clone(),
                    None,
                );
            }
        }
    }
}

/// pydantic's way of listing choices: `'a', 'b' or 'c'`.
fn expected_list(allowed: &[&str]) -> String {
    let quoted: Vec<String> = allowed.iter().map(|value| format!("'{value}'")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The request body as JSON: `None` when empty (FastAPI treats that as a missing body), a 422
/// `json_invalid` when it does not parse, a 413 when it is over the size limit.
pub(crate) fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Option<Value>, ApiError> {
    let bytes =
        body.map_err(|rejection| ApiError::new(rejection.status(), &rejection.body_text()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|err| {
        // Python's decoder reports the end of the input for a truncated document.
        let position = if err.is_eof() {
            bytes.len()
        } else {
            byte_offset(&bytes, err.line(), err.column())
        };
        ApiError::validation(vec![json!({
            "type": "json_invalid",
            "loc": ["body", position],
            "msg": "JSON decode error",
            "input": {},
            "ctx": { "error": err.to_string() },
        })])
    })
}

/// serde_json reports 1-based line and column; FastAPI reports the offset into the document.
fn byte_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = bytes
        .split(|byte| *byte == b'\n')
        .take(line.saturating_sub(1))
        .map(|line| line.len() + 1)
        .sum();
    line_start + column.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_listed_as_pydantic_lists_them() {
        assert_eq!(expected_list(&["a"]), "'a'");
        assert_eq!(expected_list(&["a", "b"]), "'a' or 'b'");
        assert_eq!(expected_list(&["a", "b", "c"]), "'a', 'b' or 'c'");
    }

    fn path_int(raw: &str) -> (i64, usize) {
        let mut validator = Validator::new();
        let value = validator.path_int("id", raw);
        (value, validator.issues.len())
    }

    #[test]
    fn an_int_path_parameter_accepts_integers_and_refuses_the_rest() {
        assert_eq!(path_int("42"), (42, 0));
        assert_eq!(path_int("-3"), (-3, 0));
        assert_eq!(path_int("99999999999999999999999"), (0, 0));
        assert_eq!(path_int("abc"), (0, 1));
        assert_eq!(path_int("1.5"), (0, 1));
        assert_eq!(path_int(""), (0, 1));
    }

    #[test]
    fn the_offset_of_a_json_error_counts_earlier_lines() {
        assert_eq!(byte_offset(b"{\n  x", 2, 3), 4);
        assert_eq!(byte_offset(b"{x", 1, 2), 1);
    }
}
