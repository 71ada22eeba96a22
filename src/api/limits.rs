//! Limits on a GraphQL document, checked in time linear in the document before async-graphql
//! validates or runs it, on every transport.
//!
//! async-graphql's depth and complexity visitors walk an operation with every fragment spread
//! expanded in place, so a 1 KB document whose 26 fragments each spread the next one twice
//! costs 2^26 visits, on an async worker. Here every fragment is measured once (its fields,
//! counted with everything it spreads, and its depth) in an order where a fragment comes after
//! the fragments it spreads; the whole check is one pass over the text and one over the syntax
//! tree. A document over a limit is refused before async-graphql sees it; one under the limits
//! is, expanded, at most `max_fields` fields, so async-graphql's own visitors and the execution
//! stay small.
//!
//! [`Limiter`] applies the same checks inside the schema (so `Schema::execute` and the
//! websocket cannot skip them) and replaces async-graphql's "Query is too complex." with a
//! message naming the limit and the query's value. [`prepare`] runs them before execution, so
//! the transport can refuse with the right status, learn the operation's type, and hand the
//! parsed document on instead of parsing the text twice.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, NextValidation,
    ResolveInfo,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{
    ErrorExtensionValues, ErrorExtensions, Pos, Request, Response, ServerError, ServerResult,
    ValidationResult, Value, Variables,
};

use super::error::{error_document, grouped, ErrorCode, LimitHit};
use super::SchemaLimits;

/// Brackets (`{`, `(`, `[`) nested deeper than this are refused before parsing: the parser
/// recurses once per level and allows 64 itself, and a body of a million `{` must not reach it.
pub const MAX_NESTING: usize = 64;

/// Documents at least this long are parsed and measured on the blocking pool; shorter ones take
/// microseconds and are checked where they arrive.
pub const PARSE_INLINE_BYTES: usize = 8 * 1024;

/// Why a document was refused before it ran, in the shape every refusal has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub limit: Option<LimitHit>,
    /// Line and column (from 1) the message refers to, when it refers to a place.
    pub locations: Vec<(usize, usize)>,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
            limit: None,
            locations: Vec::new(),
        }
    }

    fn over(code: ErrorCode, message: String, name: &'static str, max: usize) -> Refusal {
        Refusal {
            limit: Some(LimitHit {
                name,
                max: max as u64,
            }),
            ..Refusal::new(code, message)
        }
    }

    /// The JSON body a transport answers with.
    pub fn document(&self) -> serde_json::Value {
        let mut document = error_document(self.code, &self.message, self.limit);
        if !self.locations.is_empty() {
            let locations: Vec<_> = self
                .locations
                .iter()
                .map(|(line, column)| serde_json::json!({ "line": line, "column": column }))
                .collect();
            document["errors"][0]["locations"] = serde_json::Value::Array(locations);
        }
        document
    }

    pub fn server_error(&self) -> ServerError {
        let locations = self
            .locations
            .iter()
            .map(|&(line, column)| Pos { line, column })
            .collect();
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", self.code.as_str());
        if let Some(limit) = self.limit {
            extensions.set("limit", limit.name);
            extensions.set("max", limit.max);
        }
        let mut error = ServerError::new(self.message.clone(), None);
        error.locations = locations;
        error.extensions = Some(extensions);
        error
    }

    /// The refusal as a resolver's error.
    pub fn error(&self) -> async_graphql::Error {
        let limit = self.limit;
        super::error::coded(self.code, self.message.clone()).extend_with(move |_, e| {
            if let Some(limit) = limit {
                e.set("limit", limit.name);
                e.set("max", limit.max);
            }
        })
    }

    pub fn response(&self) -> Response {
        Response::from_errors(vec![self.server_error()])
    }
}

/// A request checked against the limits and parsed, ready to execute.
pub struct Prepared {
    /// The request, carrying its parsed document (async-graphql does not parse it again).
    pub request: Request,
    /// The type of the operation that will run; `None` when the document does not name one
    /// it holds (execution then says so).
    pub operation: Option<OperationType>,
}

/// Checks `request` against `limits` and parses it. Cheap for ordinary documents; async code
/// calls [`Api::prepare`](super::Api::prepare), which also resolves persisted queries and moves
/// large documents to the blocking pool.
pub fn prepare(limits: &SchemaLimits, mut request: Request) -> Result<Prepared, Refusal> {
    check_text(&request.query, limits)?;
    let document = async_graphql::parser::parse_query(&request.query).map_err(parse_refusal)?;
    measure(&document, limits)?;
    let operation = operation_type(&document, request.operation_name.as_deref());
    request.set_parsed_query(document);
    Ok(Prepared {
        request: request.data(Measured),
        operation,
    })
}

/// Marks a request whose document [`prepare`] has parsed and measured, so that the schema's
/// [`Limiter`] neither parses nor measures it again.
struct Measured;

/// [`prepare`], on the blocking pool when the document is large enough to take a while.
pub async fn prepare_off_runtime(
    limits: SchemaLimits,
    request: Request,
) -> Result<Prepared, Refusal> {
    if request.query.len() < PARSE_INLINE_BYTES {
        return prepare(&limits, request);
    }
    match tokio::task::spawn_blocking(move || prepare(&limits, request)).await {
        Ok(prepared) => prepared,
        Err(_) => Err(Refusal::new(
            ErrorCode::Unavailable,
            "the server could not check the query; try again",
        )),
    }
}

/// The checks on the text alone: its size, and how deep its brackets nest.
pub(super) fn check_text(query: &str, limits: &SchemaLimits) -> Result<(), Refusal> {
    if query.len() > limits.max_document_bytes {
        return Err(Refusal::over(
            ErrorCode::QueryTooLarge,
            format!(
                "the query is {} bytes long; at most {} are allowed",
                grouped(query.len() as u64),
                grouped(limits.max_document_bytes as u64)
            ),
            "maxDocumentBytes",
            limits.max_document_bytes,
        ));
    }
    if let Some(offset) = too_deeply_nested(query.as_bytes(), MAX_NESTING) {
        let (line, column) = line_column(query, offset);
        let mut refusal = Refusal::over(
            ErrorCode::GraphqlParseFailed,
            format!("the query nests brackets more than {MAX_NESTING} deep"),
            "maxNesting",
            MAX_NESTING,
        );
        refusal.locations.push((line, column));
        return Err(refusal);
    }
    Ok(())
}

/// The byte offset where brackets first nest deeper than `max`, skipping strings and comments;
/// `None` when they never do.
fn too_deeply_nested(text: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'#' => {
                while i < text.len() && text[i] != b'\n' && text[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if text[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next `"""` not escaped as `\"""`.
                i += 3;
                while i < text.len() && !text[i..].starts_with(b"\"\"\"") {
                    i += if text[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < text.len() && text[i] != b'"' && text[i] != b'\n' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

/// The parser's error, without the copy of the offending line pest puts in its message (a
/// line that may be the whole document).
fn parse_refusal(error: async_graphql::parser::Error) -> Refusal {
    let locations: Vec<(usize, usize)> = error.positions().map(|p| (p.line, p.column)).collect();
    let what = match &error {
        async_graphql::parser::Error::Syntax { message, .. } => message
            .lines()
            .find_map(|line| line.trim_start().strip_prefix("= "))
            .unwrap_or("syntax error")
            .to_owned(),
        other => other.to_string(),
    };
    let at = locations
        .first()
        .map(|(line, column)| format!(" at line {line}, column {column}"))
        .unwrap_or_default();
    let mut refusal = Refusal::new(
        ErrorCode::GraphqlParseFailed,
        format!("the query does not parse{at}: {what}"),
    );
    refusal.locations = locations;
    refusal
}

/// What an operation costs once its fragments are expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Field selections, each spread counted with everything its fragment selects.
    pub fields: u64,
    /// The deepest nesting of fields.
    pub depth: u64,
}

/// Measures `document` and refuses it when over `limits`: fields summed over its operations
/// (async-graphql validates every operation of a document), depth the deepest of them.
pub fn measure(document: &ExecutableDocument, limits: &SchemaLimits) -> Result<Cost, Refusal> {
    let fragments = fragment_costs(document)?;
    let mut total = Cost::default();
    for (_, operation) in document.operations.iter() {
        let cost = cost_of(&operation.node.selection_set.node, &fragments);
        total.fields = total.fields.saturating_add(cost.fields);
        total.depth = total.depth.max(cost.depth);
    }
    if total.fields > limits.max_fields as u64 {
        return Err(Refusal::over(
            ErrorCode::QueryTooLarge,
            format!(
                "the query selects {} fields once its fragments are expanded (aliases and every fragment spread counted); at most {} are allowed",
                grouped(total.fields),
                grouped(limits.max_fields as u64)
            ),
            "maxFields",
            limits.max_fields,
        ));
    }
    if total.depth > limits.max_depth as u64 {
        return Err(depth_refusal(total.depth as usize, limits.max_depth));
    }
    Ok(total)
}

fn depth_refusal(depth: usize, max: usize) -> Refusal {
    Refusal::over(
        ErrorCode::GraphqlValidationFailed,
        format!("the query nests fields {depth} deep; at most {max} levels are allowed"),
        "maxDepth",
        max,
    )
}

/// The cost of a selection set, given the costs of the fragments it may spread. Recursion
/// follows the syntax tree only, which the parser keeps within its own nesting limit.
fn cost_of(set: &SelectionSet, fragments: &HashMap<&str, Cost>) -> Cost {
    let mut cost = Cost::default();
    for item in &set.items {
        let item_cost = match &item.node {
            Selection::Field(field) => {
                let inner = cost_of(&field.node.selection_set.node, fragments);
                Cost {
                    fields: inner.fields.saturating_add(1),
                    depth: inner.depth + 1,
                }
            }
            Selection::InlineFragment(fragment) => {
                cost_of(&fragment.node.selection_set.node, fragments)
            }
            // An unknown fragment costs nothing here; validation reports it.
            Selection::FragmentSpread(spread) => fragments
                .get(spread.node.fragment_name.node.as_str())
                .copied()
                .unwrap_or_default(),
        };
        cost.fields = cost.fields.saturating_add(item_cost.fields);
        cost.depth = cost.depth.max(item_cost.depth);
    }
    cost
}

/// The fragments a selection set spreads, at any depth, in order.
fn spreads_of<'a>(set: &'a SelectionSet, out: &mut Vec<&'a str>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => spreads_of(&field.node.selection_set.node, out),
            Selection::InlineFragment(fragment) => {
                spreads_of(&fragment.node.selection_set.node, out)
            }
            Selection::FragmentSpread(spread) => out.push(spread.node.fragment_name.node.as_str()),
        }
    }
}

/// Every fragment's cost, each computed once after the fragments it spreads (a depth-first
/// walk with an explicit stack, so a long chain of fragments cannot exhaust the thread's
/// stack); a fragment that spreads itself, directly or not, is refused.
fn fragment_costs(document: &ExecutableDocument) -> Result<HashMap<&str, Cost>, Refusal> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        Open,
        Done,
    }
    let fragments = &document.fragments;
    let spreads = |name: &str| {
        let mut out = Vec::new();
        if let Some(fragment) = fragments.get(name) {
            spreads_of(&fragment.node.selection_set.node, &mut out);
        }
        out
    };
    let mut costs: HashMap<&str, Cost> = HashMap::with_capacity(fragments.len());
    let mut marks: HashMap<&str, Mark> = HashMap::with_capacity(fragments.len());
    let mut names: Vec<&str> = fragments.keys().map(|name| name.as_str()).collect();
    // Sorted, so a document with two cycles always names the same one.
    names.sort_unstable();
    for root in names {
        if marks.contains_key(root) {
            continue;
        }
        marks.insert(root, Mark::Open);
        let mut stack: Vec<(&str, Vec<&str>, usize)> = vec![(root, spreads(root), 0)];
        while let Some((name, children, next)) = stack.last_mut() {
            if let Some(&child) = children.get(*next) {
                *next += 1;
                if !fragments.contains_key(child) {
                    continue;
                }
                match marks.get(child) {
                    Some(Mark::Done) => {}
                    Some(Mark::Open) => {
                        let start = stack.iter().position(|(n, _, _)| *n == child).unwrap_or(0);
                        let mut path: Vec<&str> =
                            stack[start..].iter().map(|(n, _, _)| *n).collect();
                        path.push(child);
                        let mut refusal = Refusal::new(
                            ErrorCode::GraphqlValidationFailed,
                            format!(
                                "fragment `{child}` spreads itself ({}); a fragment may not include itself",
                                path.join(" → ")
                            ),
                        );
                        if let Some(fragment) = fragments.get(child) {
                            refusal
                                .locations
                                .push((fragment.pos.line, fragment.pos.column));
                        }
                        return Err(refusal);
                    }
                    None => {
                        marks.insert(child, Mark::Open);
                        let grandchildren = spreads(child);
                        stack.push((child, grandchildren, 0));
                    }
                }
            } else {
                let name = *name;
                stack.pop();
                if let Some(fragment) = fragments.get(name) {
                    let cost = cost_of(&fragment.node.selection_set.node, &costs);
                    costs.insert(name, cost);
                }
                marks.insert(name, Mark::Done);
            }
        }
    }
    Ok(costs)
}

/// The type of the operation `name` picks out of `document` (or its only one).
fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => Some(op.node.ty),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The schema extension that applies the limits to every request the schema runs, however it
/// arrives: the text checks before parsing, [`measure`] after, and depth and complexity (which
/// need the schema's field costs) after async-graphql's validation has computed them.
pub(super) struct Limiter(pub SchemaLimits);

impl ExtensionFactory for Limiter {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimiterExtension(self.0))
    }
}

struct LimiterExtension(SchemaLimits);

/// Gives an error from async-graphql's parser or validator the code of the stage it failed in.
fn with_code(mut error: ServerError, code: ErrorCode) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code.as_str());
    }
    error
}

/// What `{ __schema { description } }` answers: async-graphql would give its own text about
/// what a schema is (`__Schema`'s), which describes no schema in particular.
pub const SCHEMA_DESCRIPTION: &str = "tiegraph: a knowledge graph of ties between companies, government bodies, nonprofits and people. Every tie (relation) carries its claims, each citing a source and saying who claims it; searches say when they are partial. Start with `entity`, `entities`, `connected` and `paths`.";

#[async_trait::async_trait]
impl Extension for LimiterExtension {
    // Here rather than in an extension of its own: every field passes through each extension,
    // and one check of the parent type's name costs less than another hook.
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.parent_type == "__Schema" && info.name == "description" {
            return Ok(Some(Value::String(SCHEMA_DESCRIPTION.to_owned())));
        }
        next.run(ctx, info).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        if ctx.data_opt::<Measured>().is_some() {
            // The document comes already parsed: async-graphql hands it on.
            return next.run(ctx, query, variables).await;
        }
        check_text(query, &self.0).map_err(|refusal| refusal.server_error())?;
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|error| with_code(error, ErrorCode::GraphqlParseFailed))?;
        measure(&document, &self.0).map_err(|refusal| refusal.server_error())?;
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| with_code(error, ErrorCode::GraphqlValidationFailed))
                .collect::<Vec<_>>()
        })?;
        let limits = &self.0;
        if result.depth > limits.max_depth {
            return Err(vec![
                depth_refusal(result.depth, limits.max_depth).server_error()
            ]);
        }
        if result.complexity > limits.max_complexity {
            let refusal = Refusal::over(
                ErrorCode::GraphqlValidationFailed,
                format!(
                    "the query's complexity is {}; at most {} is allowed. Each field costs 1, and a list or search field costs its page size (`first`, 20 when not given) times what it selects: ask for smaller pages or fewer nested lists",
                    grouped(result.complexity as u64),
                    grouped(limits.max_complexity as u64)
                ),
                "maxComplexity",
                limits.max_complexity,
            );
            return Err(vec![refusal.server_error()]);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> SchemaLimits {
        SchemaLimits::default()
    }

    fn fan_out(levels: usize) -> String {
        let mut query = String::from("query { ...F1 }\n");
        for i in 1..levels {
            query.push_str(&format!(
                "fragment F{i} on QueryRoot {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        query.push_str(&format!(
            "fragment F{levels} on QueryRoot {{ stats {{ entities }} }}\n"
        ));
        query
    }

    #[test]
    fn fragment_fan_out_is_counted_with_its_expansion_in_linear_time() {
        let query = fan_out(26);
        let started = std::time::Instant::now();
        let refusal = prepare(&limits(), Request::new(query))
            .err()
            .expect("refused");
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        assert_eq!(refusal.code, ErrorCode::QueryTooLarge);
        // 2^25 spreads of a fragment selecting two fields.
        assert!(
            refusal.message.contains("67,108,864"),
            "{}",
            refusal.message
        );
        assert_eq!(refusal.limit.map(|l| l.name), Some("maxFields"));
    }

    #[test]
    fn cycles_and_long_chains_are_handled_without_recursion() {
        let cyclic = "{ ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { stats { entities } ...A }";
        let refusal = prepare(&limits(), Request::new(cyclic))
            .err()
            .expect("refused");
        assert_eq!(refusal.code, ErrorCode::GraphqlValidationFailed);
        assert!(refusal.message.contains("A → B → A"), "{}", refusal.message);
        let mut chain = String::from("{ ...C0 }\n");
        for i in 0..5_000 {
            chain.push_str(&format!("fragment C{i} on QueryRoot {{ ...C{} }}\n", i + 1));
        }
        chain.push_str("fragment C5000 on QueryRoot { stats { entities } }\n");
        let Ok(prepared) = prepare(&limits(), Request::new(chain)) else {
            panic!("a long chain of fragments is allowed")
        };
        assert_eq!(prepared.operation, Some(OperationType::Query));
    }

    #[test]
    fn brackets_nested_past_the_parser_are_refused_before_parsing() {
        let deep = "{".repeat(200_000);
        let refusal = prepare(&limits(), Request::new(deep))
            .err()
            .expect("refused");
        assert_eq!(refusal.code, ErrorCode::GraphqlParseFailed);
        assert_eq!(refusal.limit.map(|l| l.name), Some("maxNesting"));
        // Brackets inside strings, block strings and comments do not count.
        let quoted = format!(
            "# {}\n{{ entity(id: \"{}\") {{ description(x: \"\"\"{}\\\"\"\"\"\"\") }} }}",
            "{".repeat(100),
            "{".repeat(100),
            "[".repeat(100)
        );
        assert_eq!(too_deeply_nested(quoted.as_bytes(), MAX_NESTING), None);
    }

    #[test]
    fn depth_is_the_expanded_depth() {
        let mut query = String::from("{ ...D1 }\n");
        for i in 1..20 {
            query.push_str(&format!(
                "fragment D{i} on QueryRoot {{ entity(id: \"x\") {{ __typename }} ...D{} }}\n",
                i + 1
            ));
        }
        query.push_str("fragment D20 on QueryRoot { stats { entities } }\n");
        // Spreads add no depth: this is two levels deep however long the chain.
        let cost = measure(
            &async_graphql::parser::parse_query(&query).unwrap(),
            &limits(),
        )
        .unwrap();
        assert_eq!(cost.depth, 2);
        assert_eq!(cost.fields, 19 * 2 + 2);
    }
}
