//! The AST pass: one walk over oxc's AST that resolves module aliases, folds constant
//! strings and records calls, assignments, member reads, strings and imports.
//!
//! Scopes are a name → shadow-stack map with an undo log, so a lookup is one hash probe
//! and leaving a scope pops exactly what it declared. Bindings are flow-based: a `let` or
//! `var` keeps its folded value until it is reassigned (then it becomes unknown), except
//! `s += '…'` on a known string, which keeps folding (string building over statements).

use std::borrow::Cow;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use oxc_ast::ast::*;
use oxc_ast_visit::{walk, Visit};
use oxc_syntax::operator::{AssignmentOperator, BinaryOperator, LogicalOperator, UnaryOperator};
use oxc_syntax::scope::{ScopeFlags, ScopeId};

use super::decode;
use super::text::TextScan;
use super::{Assignment, Call, MemberRead, StrConst, Value};

/// Bounds of the AST pass. Everything an attacker controls is capped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WalkLimits {
    /// Calls recorded per file; past `max_calls / 2`, calls on unknown receivers (`?.x`)
    /// are no longer recorded so that known callees still are.
    pub max_calls: usize,
    pub max_strings: usize,
    pub max_assignments: usize,
    pub max_member_reads: usize,
    /// Longest string the folder builds.
    pub max_folded_len: usize,
    /// Total bytes of strings the folder may materialise in one file.
    pub fold_budget: usize,
    /// Deepest expression/statement nesting walked; deeper subtrees are skipped.
    pub max_walk_depth: u32,
    /// Deepest expression the folder looks into.
    pub max_fold_depth: u32,
    /// Longest string recorded in `strings` (longer ones are cut).
    pub max_recorded_string: usize,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_calls: 100_000,
            max_strings: 100_000,
            max_assignments: 20_000,
            max_member_reads: 50_000,
            max_folded_len: 1 << 20,
            fold_budget: 64 << 20,
            max_walk_depth: 1_000,
            max_fold_depth: 32,
            max_recorded_string: 64 << 10,
        }
    }
}

#[derive(Debug, Clone)]
enum Binding {
    /// A canonical path: a module (`child_process`), a member of one
    /// (`child_process.exec`), or a global (`process.env`, `globalThis`).
    Alias(String),
    /// A folded value.
    Const(Value),
    /// Declared without a value (`var cp;`): the first assignment decides.
    Uninit,
    /// A local whose value is not known (parameter, reassigned variable, function).
    Local,
}

/// What an expression refers to.
enum Resolved {
    /// `window`, `self`, `global`, `globalThis`: members of it are globals.
    GlobalObject,
    Path(String),
}

/// The ASCII bytes `char::is_whitespace` accepts (`bounded_excerpt`'s notion, which adds the
/// vertical tab to `u8::is_ascii_whitespace`), as a table: the excerpt loop looks at every byte.
static ASCII_WHITESPACE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 128 {
        table[byte] = (byte as u8).is_ascii_whitespace() || byte == 0x0B;
        byte += 1;
    }
    table
};

const GLOBAL_OBJECTS: [&str; 4] = ["globalThis", "global", "window", "self"];

/// Globals that keep their name as a value (`Value::Member`) rather than `Value::Ident`.
const KNOWN_GLOBALS: &[&str] = &[
    "process",
    "require",
    "module",
    "exports",
    "Buffer",
    "eval",
    "Function",
    "fetch",
    "XMLHttpRequest",
    "WebSocket",
    "navigator",
    "document",
    "localStorage",
    "sessionStorage",
    "atob",
    "btoa",
    "__dirname",
    "__filename",
    "ethereum",
    "crypto",
    "setTimeout",
    "setInterval",
    "Deno",
    "Bun",
];

/// Roots whose member reads are not worth recording (language built-ins and module
/// plumbing).
const BORING_ROOTS: &[&str] = &[
    "Object",
    "Array",
    "Math",
    "JSON",
    "String",
    "Number",
    "Boolean",
    "Promise",
    "Symbol",
    "console",
    "exports",
    "module",
    "Reflect",
    "Date",
    "Error",
    "TypeError",
    "RegExp",
    "Map",
    "Set",
    "WeakMap",
    "WeakSet",
    "undefined",
    "Intl",
    "BigInt",
    "arguments",
];

pub(crate) struct AstFacts {
    pub calls: Vec<Call>,
    pub assignments: Vec<Assignment>,
    pub member_reads: Vec<MemberRead>,
    pub strings: Vec<StrConst>,
    pub imports: Vec<String>,
    pub identifiers: usize,
    pub hex_identifiers: usize,
    pub max_string_array: usize,
    pub string_histogram: Box<[u64; 256]>,
    pub long_encoded_strings: usize,
    pub truncated: bool,
}

/// No shadowed binding (see `Walker::bindings`).
const NO_BINDING: u32 = u32::MAX;

pub(crate) struct Walker<'a, 's> {
    source: &'s str,
    scan: &'s TextScan,
    limits: WalkLimits,
    /// The innermost binding of each name in scope: an index into `bindings`.
    scopes: HashMap<&'a str, u32>,
    /// Every binding in scope, in declaration order, each with the index of the binding it
    /// shadows (`NO_BINDING` when none): one vector instead of a stack per name.
    bindings: Vec<(Binding, u32, &'a str)>,
    /// `bindings.len()` at each open scope.
    marks: Vec<usize>,
    depth: u32,
    /// Set while visiting the object of a member expression, whose path is part of the
    /// outer one and not a read of its own.
    in_member_object: bool,
    fold_budget: usize,
    derived_seen: HashSet<u64>,
    imports_seen: HashSet<String>,
    out: AstFacts,
}

impl<'a, 's> Walker<'a, 's> {
    pub fn new(source: &'s str, scan: &'s TextScan, limits: WalkLimits) -> Self {
        Walker {
            source,
            scan,
            limits,
            scopes: HashMap::default(),
            bindings: Vec::new(),
            marks: Vec::new(),
            depth: 0,
            in_member_object: false,
            fold_budget: limits.fold_budget,
            derived_seen: HashSet::default(),
            imports_seen: HashSet::default(),
            out: AstFacts {
                calls: Vec::new(),
                assignments: Vec::new(),
                member_reads: Vec::new(),
                strings: Vec::new(),
                imports: Vec::new(),
                identifiers: 0,
                hex_identifiers: 0,
                max_string_array: 0,
                string_histogram: Box::new([0; 256]),
                long_encoded_strings: 0,
                truncated: false,
            },
        }
    }

    pub fn run(mut self, program: &Program<'a>) -> AstFacts {
        // Real code has about one call per 100 bytes and one string per 150: reserving that
        // much up front spares the repeated doubling (and copying) of the largest vectors.
        let size = self.source.len();
        self.out.calls.reserve((size / 100).min(self.limits.max_calls));
        self.out.strings.reserve((size / 150).min(self.limits.max_strings));
        self.visit_program(program);
        self.out
    }

    // ---- scopes -------------------------------------------------------------------------

    fn declare(&mut self, name: &'a str, binding: Binding) {
        let index = self.bindings.len() as u32;
        let shadowed = self.scopes.insert(name, index).unwrap_or(NO_BINDING);
        self.bindings.push((binding, shadowed, name));
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        let index = *self.scopes.get(name)?;
        self.bindings.get(index as usize).map(|(binding, _, _)| binding)
    }

    fn rebind(&mut self, name: &str, binding: Binding) {
        let Some(&index) = self.scopes.get(name) else { return };
        if let Some(slot) = self.bindings.get_mut(index as usize) {
            slot.0 = binding;
        }
    }

    // ---- positions and excerpts ---------------------------------------------------------

    fn line(&self, offset: u32) -> u32 {
        self.scan.position(offset).0
    }

    fn excerpt(&self, span: oxc_span::Span) -> String {
        const MAX_CHARS: usize = 160;
        let start = (span.start as usize).min(self.source.len());
        let mut end = (span.end as usize).min(self.source.len()).min(start + MAX_CHARS + 20);
        while end > start && !self.source.is_char_boundary(end) {
            end -= 1;
        }
        let text = self.source.get(start..end).unwrap_or("");
        if !text.is_ascii() {
            return palisade_core::bounded_excerpt(text, MAX_CHARS);
        }
        // ASCII fast path of `bounded_excerpt` (same output): whitespace runs collapse to
        // one space, `…` marks a cut. Runs of other bytes are copied whole.
        let bytes = text.as_bytes();
        // Pieces of `text` are copied as `str` (cut only at ASCII bytes): no re-validation.
        let mut out = String::with_capacity(bytes.len().min(MAX_CHARS) + 3);
        let mut i = 0;
        let mut last_space = true;
        while i < bytes.len() {
            if ASCII_WHITESPACE[bytes[i] as usize] {
                if !last_space {
                    if out.len() == MAX_CHARS {
                        out.push('…');
                        break;
                    }
                    out.push(' ');
                    last_space = true;
                }
                i += 1;
                continue;
            }
            let run = whitespace_position(&bytes[i..]);
            let take = run.min(MAX_CHARS - out.len());
            out.push_str(text.get(i..i + take).unwrap_or(""));
            if take < run {
                out.push('…');
                break;
            }
            i += run;
            last_space = false;
        }
        if out.ends_with(' ') {
            out.pop();
        }
        out
    }

    // ---- resolution ---------------------------------------------------------------------

    fn resolve(&mut self, expr: &Expression<'a>, depth: u32) -> Option<Resolved> {
        if depth > self.limits.max_fold_depth {
            return None;
        }
        match expr {
            Expression::Identifier(id) => self.resolve_identifier(id.name.as_str()),
            Expression::ParenthesizedExpression(inner) => self.resolve(&inner.expression, depth + 1),
            Expression::SequenceExpression(seq) => seq.expressions.last().and_then(|e| self.resolve(e, depth + 1)),
            Expression::ChainExpression(chain) => match &chain.expression {
                ChainElement::CallExpression(_) | ChainElement::TSNonNullExpression(_) => None,
                element => element
                    .as_member_expression()
                    .and_then(|m| self.resolve_member(m, depth + 1, false)),
            },
            Expression::TSAsExpression(e) => self.resolve(&e.expression, depth + 1),
            Expression::TSSatisfiesExpression(e) => self.resolve(&e.expression, depth + 1),
            Expression::TSNonNullExpression(e) => self.resolve(&e.expression, depth + 1),
            Expression::TSTypeAssertion(e) => self.resolve(&e.expression, depth + 1),
            Expression::AwaitExpression(e) => match e.argument.without_parentheses() {
                Expression::ImportExpression(import) => self
                    .fold(&import.source, depth + 1)
                    .as_str()
                    .map(|s| Resolved::Path(normalize_module(s))),
                _ => None,
            },
            Expression::CallExpression(call) => {
                let specifier = self.require_specifier(call, depth)?;
                Some(Resolved::Path(normalize_module(&specifier)))
            }
            _ => expr
                .as_member_expression()
                .and_then(|m| self.resolve_member(m, depth + 1, false)),
        }
    }

    fn resolve_identifier(&self, name: &str) -> Option<Resolved> {
        match self.lookup(name) {
            Some(Binding::Alias(path)) => Some(if GLOBAL_OBJECTS.contains(&path.as_str()) {
                Resolved::GlobalObject
            } else {
                Resolved::Path(path_buffer(path))
            }),
            Some(_) => None,
            None if GLOBAL_OBJECTS.contains(&name) => Some(Resolved::GlobalObject),
            None => Some(Resolved::Path(path_buffer(name))),
        }
    }

    /// The canonical path of a member expression. With `keep_global_root`, members of the
    /// global object keep a `window.` prefix (assignment targets: `window.fetch = …`).
    fn resolve_member(
        &mut self,
        member: &MemberExpression<'a>,
        depth: u32,
        keep_global_root: bool,
    ) -> Option<Resolved> {
        let (object, property) = match member {
            MemberExpression::StaticMemberExpression(m) => (&m.object, Cow::Borrowed(m.property.name.as_str())),
            MemberExpression::ComputedMemberExpression(m) => {
                let key = self.fold(&m.expression, depth + 1);
                let key = match key {
                    Value::Str { value, .. } => value,
                    Value::Num { value } => number_to_string(value),
                    _ => return None,
                };
                (&m.object, Cow::Owned(key))
            }
            MemberExpression::PrivateFieldExpression(_) => return None,
        };
        // `(function () {}).constructor`, `(() => {}).constructor`, `[].filter.constructor`,
        // `''.sub.constructor`: every function's constructor is `Function`, the obfuscators'
        // way to reach it without naming it.
        if property == "constructor" {
            let inner = object.without_parentheses();
            let function_value = matches!(
                inner,
                Expression::FunctionExpression(_) | Expression::ArrowFunctionExpression(_)
            ) || inner.as_member_expression().is_some_and(|m| {
                matches!(
                    m.object().without_parentheses(),
                    Expression::ArrayExpression(_) | Expression::StringLiteral(_) | Expression::TemplateLiteral(_)
                )
            });
            if function_value {
                return Some(Resolved::Path("Function".to_string()));
            }
        }
        let object = match object.without_parentheses().as_member_expression() {
            Some(inner) if keep_global_root => self.resolve_member(inner, depth + 1, true)?,
            _ => self.resolve(object, depth + 1)?,
        };
        // The object's path is extended in place: one buffer grows along the chain.
        match object {
            Resolved::GlobalObject if keep_global_root => Some(Resolved::Path(format!("window.{property}"))),
            Resolved::GlobalObject => Some(Resolved::Path(property.into_owned())),
            Resolved::Path(mut path) => {
                path.reserve(property.len() + 16);
                path.push('.');
                path.push_str(&property);
                Some(Resolved::Path(path))
            }
        }
    }

    fn path_of(&mut self, expr: &Expression<'a>) -> Option<String> {
        match self.resolve(expr, 0)? {
            Resolved::GlobalObject => None,
            Resolved::Path(path) => Some(path),
        }
    }

    /// `require('x')`, `module.require('x')`, `process.mainModule.require('x')`: the folded
    /// specifier when it is a known string.
    fn require_specifier(&mut self, call: &CallExpression<'a>, depth: u32) -> Option<String> {
        // `Module._load(request, parent, isMain)` (reached as `module.constructor._load` or
        // `require('module')._load`) is what `require` calls: loaders use it to hide imports.
        let internal_load = matches!(call.callee.without_parentheses().as_member_expression(),
            Some(MemberExpression::StaticMemberExpression(m)) if m.property.name.as_str() == "_load");
        if internal_load {
            if call.arguments.is_empty() || call.arguments.len() > 3 {
                return None;
            }
        } else if call.arguments.len() != 1 || !self.is_require_callee(&call.callee, depth) {
            return None;
        }
        let argument = call.arguments.first()?.as_expression()?;
        match self.fold(argument, depth + 1) {
            Value::Str { value, .. } => Some(value),
            _ => None,
        }
    }

    fn is_require_callee(&mut self, callee: &Expression<'a>, depth: u32) -> bool {
        // Fast path: the overwhelmingly common plain `require`.
        if let Expression::Identifier(id) = callee {
            if id.name.as_str() != "require" && self.lookup(id.name.as_str()).is_none() {
                return false;
            }
        }
        matches!(self.resolve(callee, depth + 1),
            Some(Resolved::Path(p)) if is_require_path(&p))
    }

    /// The canonical callee of a call.
    fn callee_name(&mut self, callee: &Expression<'a>) -> String {
        match self.resolve(callee, 0) {
            Some(Resolved::Path(path)) => path,
            Some(Resolved::GlobalObject) => "globalThis".to_string(),
            None => {
                let inner = callee.without_parentheses();
                if let Some(member) = inner.as_member_expression() {
                    return match member {
                        MemberExpression::StaticMemberExpression(m) => unknown_callee("?.", m.property.name.as_str()),
                        MemberExpression::ComputedMemberExpression(m) => match self.fold(&m.expression, 1) {
                            Value::Str { value, .. } => unknown_callee("?.", &value),
                            _ => "?".to_string(),
                        },
                        MemberExpression::PrivateFieldExpression(m) => unknown_callee("?.#", m.field.name.as_str()),
                    };
                }
                if let Expression::ChainExpression(chain) = inner {
                    if let Some(MemberExpression::StaticMemberExpression(m)) = chain.expression.as_member_expression() {
                        return unknown_callee("?.", m.property.name.as_str());
                    }
                }
                if let Expression::Identifier(id) = inner {
                    return unknown_callee("?", id.name.as_str());
                }
                "?".to_string()
            }
        }
    }

    // ---- folding ------------------------------------------------------------------------

    /// Charges `len` bytes to the fold budget; false when it is exhausted.
    fn charge(&mut self, len: usize) -> bool {
        if len > self.limits.max_folded_len || len > self.fold_budget {
            self.out.truncated = true;
            return false;
        }
        self.fold_budget -= len;
        true
    }

    fn str_value(&mut self, value: String, decoded: bool) -> Value {
        if self.charge(value.len()) {
            Value::Str { value, decoded }
        } else {
            Value::Unknown
        }
    }

    /// Records a string the folder built (not a literal), once.
    fn record_derived(&mut self, value: &Value, offset: u32) {
        let Value::Str { value, decoded } = value else { return };
        if value.is_empty() || self.out.strings.len() >= self.limits.max_strings {
            return;
        }
        let hash = {
            use std::hash::{Hash, Hasher};
            let mut hasher = rustc_hash::FxHasher::default();
            value.hash(&mut hasher);
            hasher.finish()
        };
        if !self.derived_seen.insert(hash) {
            return;
        }
        let line = self.line(offset);
        let value = cut(value, self.limits.max_recorded_string);
        self.out.strings.push(StrConst {
            value,
            decoded: *decoded,
            line,
        });
    }

    /// `path.join(process.env.APPDATA, client, 'Local Storage', 'leveldb')`: the base is not
    /// known, but the known tail (two parts or more after the last unknown one) is a path worth
    /// seeing whole, recorded as a derived string.
    fn record_join_tail(&mut self, args: &[Value], offset: u32) {
        let Some(last_unknown) = args.iter().rposition(|arg| !matches!(arg, Value::Str { .. })) else {
            return;
        };
        let tail = &args[last_unknown + 1..];
        if tail.len() < 2 {
            return;
        }
        let decoded = tail.iter().any(Value::is_decoded);
        let parts: Vec<&str> = tail.iter().filter_map(Value::as_str).collect();
        let joined = self.str_value(decode::join_path(&parts, false), decoded);
        self.record_derived(&joined, offset);
    }

    pub(crate) fn fold(&mut self, expr: &Expression<'a>, depth: u32) -> Value {
        if depth > self.limits.max_fold_depth {
            return Value::Unknown;
        }
        match expr {
            Expression::StringLiteral(s) => self.str_value(s.value.as_str().to_string(), false),
            Expression::NumericLiteral(n) => Value::Num { value: n.value },
            Expression::BooleanLiteral(b) => Value::Bool { value: b.value },
            Expression::TemplateLiteral(t) => {
                let folded = self.fold_template(t, depth);
                if !t.expressions.is_empty() {
                    self.record_derived(&folded, t.span.start);
                }
                folded
            }
            Expression::Identifier(id) => self.fold_identifier(id.name.as_str()),
            Expression::ParenthesizedExpression(inner) => self.fold(&inner.expression, depth + 1),
            Expression::SequenceExpression(seq) => match seq.expressions.last() {
                Some(last) => self.fold(last, depth + 1),
                None => Value::Unknown,
            },
            Expression::TSAsExpression(e) => self.fold(&e.expression, depth + 1),
            Expression::TSSatisfiesExpression(e) => self.fold(&e.expression, depth + 1),
            Expression::TSNonNullExpression(e) => self.fold(&e.expression, depth + 1),
            Expression::TSTypeAssertion(e) => self.fold(&e.expression, depth + 1),
            Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
                let folded = self.fold_addition(b, depth);
                self.record_derived(&folded, b.span.start);
                folded
            }
            Expression::LogicalExpression(l) if l.operator != LogicalOperator::And => {
                let left = self.fold(&l.left, depth + 1);
                let right = self.fold(&l.right, depth + 1);
                if left == right {
                    left
                } else {
                    Value::Unknown
                }
            }
            Expression::ConditionalExpression(c) => {
                let consequent = self.fold(&c.consequent, depth + 1);
                let alternate = self.fold(&c.alternate, depth + 1);
                if consequent == alternate {
                    consequent
                } else {
                    Value::Unknown
                }
            }
            Expression::UnaryExpression(u) if u.operator == UnaryOperator::UnaryNegation => {
                match self.fold(&u.argument, depth + 1) {
                    Value::Num { value } => Value::Num { value: -value },
                    _ => Value::Unknown,
                }
            }
            Expression::ArrayExpression(array) => self.fold_array(array, depth),
            Expression::ObjectExpression(object) => self.fold_object(object, depth),
            Expression::FunctionExpression(_) | Expression::ArrowFunctionExpression(_) => Value::Function,
            Expression::CallExpression(call) => {
                let folded = self.fold_call(&call.callee, &call.arguments, false, depth);
                if folded.is_decoded() {
                    self.record_derived(&folded, call.span.start);
                }
                folded
            }
            Expression::NewExpression(call) => self.fold_call(&call.callee, &call.arguments, true, depth),
            Expression::ChainExpression(chain) => match &chain.expression {
                ChainElement::CallExpression(call) => self.fold_call(&call.callee, &call.arguments, false, depth),
                ChainElement::TSNonNullExpression(e) => self.fold(&e.expression, depth + 1),
                element => match element.as_member_expression() {
                    Some(member) => self.fold_member(member, depth),
                    None => Value::Unknown,
                },
            },
            _ => match expr.as_member_expression() {
                Some(member) => self.fold_member(member, depth),
                None => Value::Unknown,
            },
        }
    }

    fn fold_identifier(&mut self, name: &str) -> Value {
        match self.lookup(name) {
            Some(Binding::Const(value)) => {
                let value = value.clone();
                if let Value::Str { value: s, .. } = &value {
                    if !self.charge(s.len()) {
                        return Value::Unknown;
                    }
                }
                value
            }
            Some(Binding::Alias(path)) => {
                let path = path.clone();
                fold_path(path)
            }
            Some(Binding::Uninit | Binding::Local) => Value::Ident { name: name.to_string() },
            None if KNOWN_GLOBALS.contains(&name) || GLOBAL_OBJECTS.contains(&name) => {
                Value::Member { path: name.to_string() }
            }
            None if name == "undefined" => Value::Unknown,
            None => Value::Ident { name: name.to_string() },
        }
    }

    fn fold_member(&mut self, member: &MemberExpression<'a>, depth: u32) -> Value {
        if let Some(resolved) = self.resolve_member(member, depth + 1, false) {
            return match resolved {
                Resolved::GlobalObject => Value::Member {
                    path: "globalThis".to_string(),
                },
                Resolved::Path(path) => fold_path(path),
            };
        }
        // Indexing into a known array or object: `parts[2]`, `cfg['url']`, `s.length`.
        let (object, key) = match member {
            MemberExpression::StaticMemberExpression(m) => (&m.object, None),
            MemberExpression::ComputedMemberExpression(m) => (&m.object, Some(self.fold(&m.expression, depth + 1))),
            MemberExpression::PrivateFieldExpression(_) => return Value::Unknown,
        };
        let key = match (member, &key) {
            (MemberExpression::StaticMemberExpression(m), _) => Key::Str(m.property.name.as_str()),
            (_, Some(Value::Str { value, .. })) => Key::Str(value),
            (_, Some(Value::Num { value })) => Key::Num(*value),
            _ => Key::Other,
        };
        if let Expression::Identifier(id) = object {
            // Without cloning the binding: a const array or object is indexed in place, and
            // anything but a const (local, parameter, global) folds to nothing indexable.
            match self.lookup(id.name.as_str()) {
                Some(Binding::Const(value @ (Value::Array { .. } | Value::Object { .. }))) => {
                    return index_value(value, &key)
                }
                Some(Binding::Const(_) | Binding::Alias(_)) => {}
                Some(Binding::Local | Binding::Uninit) | None => return Value::Unknown,
            }
        }
        let object = self.fold(object, depth + 1);
        index_value(&object, &key)
    }

    fn fold_template(&mut self, template: &TemplateLiteral<'a>, depth: u32) -> Value {
        let mut out = String::new();
        let mut decoded = false;
        for (index, quasi) in template.quasis.iter().enumerate() {
            match &quasi.value.cooked {
                Some(cooked) => out.push_str(cooked.as_str()),
                None => return Value::Unknown,
            }
            if let Some(expression) = template.expressions.get(index) {
                match self.fold(expression, depth + 1) {
                    Value::Str { value, decoded: d } => {
                        decoded |= d;
                        out.push_str(&value);
                    }
                    Value::Num { value } => out.push_str(&number_to_string(value)),
                    Value::Bool { value } => out.push_str(if value { "true" } else { "false" }),
                    _ => return Value::Unknown,
                }
            }
            if out.len() > self.limits.max_folded_len {
                self.out.truncated = true;
                return Value::Unknown;
            }
        }
        self.str_value(out, decoded)
    }

    /// `a + b + c`: the left spine is flattened with a loop so that a 100,000-term
    /// concatenation does not recurse.
    fn fold_addition(&mut self, binary: &BinaryExpression<'a>, depth: u32) -> Value {
        let mut operands: Vec<&Expression<'a>> = vec![&binary.right];
        let mut left = &binary.left;
        loop {
            match left.without_parentheses() {
                Expression::BinaryExpression(inner) if inner.operator == BinaryOperator::Addition => {
                    if operands.len() >= 100_000 {
                        return Value::Unknown;
                    }
                    operands.push(&inner.right);
                    left = &inner.left;
                }
                _ => break,
            }
        }
        operands.push(left);
        operands.reverse();
        let mut accumulator: Option<Value> = None;
        let mut built = String::new();
        let mut is_string = false;
        let mut decoded = false;
        for operand in operands {
            let value = self.fold(operand, depth + 1);
            match value {
                Value::Str { value, decoded: d } => {
                    if !is_string {
                        if let Some(previous) = accumulator.take() {
                            match previous {
                                Value::Num { value } => built.push_str(&number_to_string(value)),
                                Value::Bool { value } => built.push_str(if value { "true" } else { "false" }),
                                _ => return Value::Unknown,
                            }
                        }
                        is_string = true;
                    }
                    decoded |= d;
                    built.push_str(&value);
                }
                Value::Num { value } if is_string => built.push_str(&number_to_string(value)),
                Value::Num { value } => {
                    accumulator = Some(match accumulator {
                        None => Value::Num { value },
                        Some(Value::Num { value: previous }) => Value::Num {
                            value: previous + value,
                        },
                        Some(_) => return Value::Unknown,
                    });
                }
                Value::Bool { value } if is_string => built.push_str(if value { "true" } else { "false" }),
                _ => return Value::Unknown,
            }
            if built.len() > self.limits.max_folded_len {
                self.out.truncated = true;
                return Value::Unknown;
            }
        }
        if is_string {
            self.str_value(built, decoded)
        } else {
            accumulator.unwrap_or(Value::Unknown)
        }
    }

    fn fold_array(&mut self, array: &ArrayExpression<'a>, depth: u32) -> Value {
        if array.elements.len() > 4_096 {
            return Value::Unknown;
        }
        let mut items = Vec::with_capacity(array.elements.len());
        for element in &array.elements {
            match element {
                ArrayExpressionElement::SpreadElement(spread) => match self.fold(&spread.argument, depth + 1) {
                    Value::Array { items: inner } => items.extend(inner),
                    _ => return Value::Unknown,
                },
                ArrayExpressionElement::Elision(_) => items.push(Value::Unknown),
                element => match element.as_expression() {
                    Some(expression) => {
                        let value = self.fold(expression, depth + 1);
                        items.push(value);
                    }
                    None => items.push(Value::Unknown),
                },
            }
            if items.len() > 4_096 {
                return Value::Unknown;
            }
        }
        Value::Array { items }
    }

    fn fold_object(&mut self, object: &ObjectExpression<'a>, depth: u32) -> Value {
        let mut entries = Vec::new();
        for property in object.properties.iter().take(64) {
            let ObjectPropertyKind::ObjectProperty(property) = property else {
                continue;
            };
            let key = match &property.key {
                PropertyKey::StaticIdentifier(id) => id.name.as_str().to_string(),
                PropertyKey::PrivateIdentifier(_) => continue,
                key => match key.as_expression().map(|e| self.fold(e, depth + 1)) {
                    Some(Value::Str { value, .. }) => value,
                    Some(Value::Num { value }) => number_to_string(value),
                    _ => continue,
                },
            };
            let value = if property.method {
                Value::Function
            } else {
                self.fold(&property.value, depth + 1)
            };
            entries.push((key, value));
        }
        Value::Object { entries }
    }

    fn fold_arguments(&mut self, arguments: &[Argument<'a>], depth: u32) -> Vec<Value> {
        let mut values = Vec::with_capacity(arguments.len().min(16));
        for argument in arguments.iter().take(64) {
            match argument {
                Argument::SpreadElement(spread) => match self.fold(&spread.argument, depth + 1) {
                    Value::Array { items } => values.extend(items),
                    _ => values.push(Value::Unknown),
                },
                argument => match argument.as_expression() {
                    Some(expression) => {
                        let value = self.fold(expression, depth + 1);
                        values.push(value);
                    }
                    None => values.push(Value::Unknown),
                },
            }
        }
        values
    }

    /// Calls the folder understands: decoders, string and array methods, `path.join`,
    /// `os.homedir`. Anything else is `CallResult`.
    fn fold_call(&mut self, callee: &Expression<'a>, arguments: &[Argument<'a>], is_new: bool, depth: u32) -> Value {
        if depth > self.limits.max_fold_depth {
            return Value::Unknown;
        }
        let name = self.callee_name(callee);
        match name.as_str() {
            "Buffer.from" | "Buffer" | "Buffer.alloc.from" => {
                let args = self.fold_arguments(arguments, depth);
                return self.fold_buffer(&args);
            }
            "atob" => {
                let args = self.fold_arguments(arguments, depth);
                return match args.first() {
                    Some(Value::Str { value, .. }) => match decode::base64(value) {
                        Some(bytes) => self.str_value(String::from_utf8_lossy(&bytes).into_owned(), true),
                        None => Value::Unknown,
                    },
                    _ => Value::Unknown,
                };
            }
            "String.fromCharCode" | "String.fromCodePoint" => {
                let args = self.fold_arguments(arguments, depth);
                let mut out = String::new();
                for arg in &args {
                    let Value::Num { value } = arg else {
                        return Value::Unknown;
                    };
                    let code = *value as u32;
                    let ch = if name == "String.fromCharCode" {
                        code & 0xFFFF
                    } else {
                        code
                    };
                    out.push(char::from_u32(ch).unwrap_or('\u{FFFD}'));
                }
                return self.str_value(out, true);
            }
            "decodeURIComponent" | "decodeURI" | "unescape" => {
                let args = self.fold_arguments(arguments, depth);
                return match args.first() {
                    Some(Value::Str { value, .. }) => {
                        let decoded = decode::percent(value);
                        self.str_value(decoded, true)
                    }
                    _ => Value::Unknown,
                };
            }
            name if is_path_join(name) => {
                let args = self.fold_arguments(arguments, depth);
                let mut parts = Vec::with_capacity(args.len());
                let mut decoded = false;
                for arg in &args {
                    let Value::Str { value, decoded: d } = arg else {
                        return Value::Unknown;
                    };
                    decoded |= d;
                    parts.push(value.as_str());
                }
                let joined = decode::join_path(&parts, name.ends_with("resolve"));
                return self.str_value(joined, decoded);
            }
            "os.homedir" => {
                return Value::Str {
                    value: "~".to_string(),
                    decoded: false,
                }
            }
            _ => {}
        }
        // Methods on a folded receiver.
        if let Some(member) = callee.without_parentheses().as_member_expression() {
            let method = match member {
                MemberExpression::StaticMemberExpression(m) => Some(m.property.name.as_str().to_string()),
                MemberExpression::ComputedMemberExpression(m) => {
                    self.fold(&m.expression, depth + 1).as_str().map(str::to_string)
                }
                MemberExpression::PrivateFieldExpression(_) => None,
            };
            if let Some(method) = method {
                if let Some(value) = self.fold_method(member.object(), &method, arguments, depth) {
                    return value;
                }
            }
        }
        let _ = is_new;
        Value::CallResult { callee: name }
    }

    fn fold_buffer(&mut self, args: &[Value]) -> Value {
        let encoding = match args.get(1) {
            None => "utf8".to_string(),
            Some(Value::Str { value, .. }) => value.to_ascii_lowercase(),
            Some(_) => return Value::Unknown,
        };
        match args.first() {
            Some(Value::Str { value, decoded }) => {
                let bytes = match encoding.as_str() {
                    "base64" | "base64url" => decode::base64(value),
                    "hex" => decode::hex(value),
                    "utf8" | "utf-8" | "latin1" | "binary" | "ascii" => {
                        return self.str_value(value.clone(), *decoded);
                    }
                    _ => None,
                };
                match bytes {
                    Some(bytes) => self.str_value(String::from_utf8_lossy(&bytes).into_owned(), true),
                    None => Value::Unknown,
                }
            }
            Some(Value::Array { items }) => {
                let mut bytes = Vec::with_capacity(items.len());
                for item in items {
                    let Value::Num { value } = item else {
                        return Value::Unknown;
                    };
                    bytes.push(*value as i64 as u8);
                }
                self.str_value(String::from_utf8_lossy(&bytes).into_owned(), true)
            }
            _ => Value::Unknown,
        }
    }

    fn fold_method(
        &mut self,
        receiver: &Expression<'a>,
        method: &str,
        arguments: &[Argument<'a>],
        depth: u32,
    ) -> Option<Value> {
        const STRING_METHODS: &[&str] = &[
            "toString",
            "split",
            "concat",
            "replace",
            "replaceAll",
            "toLowerCase",
            "toUpperCase",
            "trim",
            "slice",
            "substring",
            "substr",
            "join",
            "reverse",
        ];
        if !STRING_METHODS.contains(&method) {
            return None;
        }
        let object = self.fold(receiver, depth + 1);
        let args = self.fold_arguments(arguments, depth);
        let arg_str = |index: usize| args.get(index).and_then(Value::as_str);
        let arg_num = |index: usize| match args.get(index) {
            Some(Value::Num { value }) => Some(*value),
            _ => None,
        };
        let value = match (object, method) {
            (Value::Str { value, decoded }, "toString") => match arg_str(0) {
                None | Some("utf8" | "utf-8" | "latin1" | "binary" | "ascii") if args.len() <= 1 => {
                    if args.first().is_some_and(|a| a.as_str().is_none()) {
                        return Some(Value::Unknown);
                    }
                    Value::Str { value, decoded }
                }
                _ => return Some(Value::Unknown),
            },
            (Value::Str { value, decoded }, "split") => {
                let Some(separator) = arg_str(0) else {
                    return Some(Value::Unknown);
                };
                let parts: Vec<&str> = if separator.is_empty() {
                    value.char_indices().map(|(i, c)| &value[i..i + c.len_utf8()]).collect()
                } else {
                    value.split(separator).collect()
                };
                if parts.len() > 100_000 {
                    return Some(Value::Unknown);
                }
                Value::Array {
                    items: parts
                        .into_iter()
                        .map(|p| Value::Str {
                            value: p.to_string(),
                            decoded,
                        })
                        .collect(),
                }
            }
            (Value::Str { mut value, mut decoded }, "concat") => {
                for arg in &args {
                    match arg {
                        Value::Str {
                            value: more,
                            decoded: d,
                        } => {
                            value.push_str(more);
                            decoded |= d;
                        }
                        Value::Num { value: n } => value.push_str(&number_to_string(*n)),
                        _ => return Some(Value::Unknown),
                    }
                }
                return Some(self.str_value(value, decoded));
            }
            (Value::Str { value, decoded }, "replace" | "replaceAll") => match (arg_str(0), arg_str(1)) {
                (Some(from), Some(to)) if !from.is_empty() => {
                    // Bound the result before building it: `'a'.repeat…replaceAll('a', big)`
                    // would otherwise multiply.
                    let occurrences = if method == "replace" {
                        1
                    } else {
                        value.matches(from).count()
                    };
                    let growth = to.len().saturating_sub(from.len()).saturating_mul(occurrences);
                    if value.len().saturating_add(growth) > self.limits.max_folded_len {
                        self.out.truncated = true;
                        return Some(Value::Unknown);
                    }
                    let replaced = if method == "replace" {
                        value.replacen(from, to, 1)
                    } else {
                        value.replace(from, to)
                    };
                    return Some(self.str_value(replaced, decoded));
                }
                _ => return Some(Value::Unknown),
            },
            (Value::Str { value, decoded }, "toLowerCase") => Value::Str {
                value: value.to_lowercase(),
                decoded,
            },
            (Value::Str { value, decoded }, "toUpperCase") => Value::Str {
                value: value.to_uppercase(),
                decoded,
            },
            (Value::Str { value, decoded }, "trim") => Value::Str {
                value: value.trim().to_string(),
                decoded,
            },
            (Value::Str { value, decoded }, "slice" | "substring" | "substr") => {
                let chars: Vec<char> = value.chars().collect();
                let len = chars.len() as f64;
                let start = arg_num(0).unwrap_or(0.0);
                let start = if start < 0.0 && method != "substring" {
                    (len + start).max(0.0)
                } else {
                    start.clamp(0.0, len)
                };
                let end = match (method, arg_num(1)) {
                    ("substr", Some(count)) => (start + count.max(0.0)).min(len),
                    (_, Some(end)) if end < 0.0 && method == "slice" => (len + end).max(0.0),
                    (_, Some(end)) => end.clamp(0.0, len),
                    (_, None) => len,
                };
                let (start, end) = (start as usize, end as usize);
                let slice: String = if end > start {
                    chars[start..end].iter().collect()
                } else {
                    String::new()
                };
                Value::Str { value: slice, decoded }
            }
            (Value::Array { items }, "join") => {
                let separator = match args.first() {
                    None => ",".to_string(),
                    Some(Value::Str { value, .. }) => value.clone(),
                    Some(_) => return Some(Value::Unknown),
                };
                let mut out = String::new();
                let mut decoded = false;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(&separator);
                    }
                    match item {
                        Value::Str { value, decoded: d } => {
                            out.push_str(value);
                            decoded |= d;
                        }
                        Value::Num { value } => out.push_str(&number_to_string(*value)),
                        _ => return Some(Value::Unknown),
                    }
                    if out.len() > self.limits.max_folded_len {
                        self.out.truncated = true;
                        return Some(Value::Unknown);
                    }
                }
                return Some(self.str_value(out, decoded));
            }
            (Value::Array { mut items }, "reverse") => {
                items.reverse();
                Value::Array { items }
            }
            (Value::Array { mut items }, "concat") => {
                for arg in args {
                    match arg {
                        Value::Array { items: more } => items.extend(more),
                        other => items.push(other),
                    }
                }
                Value::Array { items }
            }
            _ => return None,
        };
        Some(value)
    }

    // ---- recording ----------------------------------------------------------------------

    fn record_call(&mut self, callee: String, args: Vec<Value>, is_new: bool, span: oxc_span::Span) {
        let len = self.out.calls.len();
        if len >= self.limits.max_calls || (len >= self.limits.max_calls / 2 && callee.starts_with('?')) {
            self.out.truncated = true;
            return;
        }
        let (line, column) = self.scan.position(span.start);
        let excerpt = self.excerpt(span);
        let mut call = super::Call {
            callee,
            args,
            is_new,
            line,
            column,
            excerpt,
            flags: 0,
        };
        call.flags = crate::rules::call_flags(&call);
        self.out.calls.push(call);
    }

    fn add_import(&mut self, specifier: &str) {
        let normalized = specifier.strip_prefix("node:").unwrap_or(specifier);
        if self.imports_seen.len() < 10_000 && self.imports_seen.insert(normalized.to_string()) {
            self.out.imports.push(normalized.to_string());
        }
    }

    fn record_member_read(&mut self, path: String, whole: bool, offset: u32) {
        if self.out.member_reads.len() >= self.limits.max_member_reads {
            self.out.truncated = true;
            return;
        }
        let line = self.line(offset);
        self.out.member_reads.push(MemberRead { path, whole, line });
    }

    /// Cheap pre-check before resolving a member chain for a read: walks down to the root
    /// without allocating and says whether the path could be worth recording.
    fn root_is_interesting(&self, expr: &Expression<'a>) -> bool {
        let mut current = expr;
        for _ in 0..64 {
            current = match current {
                Expression::Identifier(id) => {
                    let name = id.name.as_str();
                    return match self.lookup(name) {
                        Some(Binding::Alias(path)) => {
                            let root = path.split('.').next().unwrap_or("");
                            !BORING_ROOTS.contains(&root)
                        }
                        Some(_) => false,
                        None => !BORING_ROOTS.contains(&name),
                    };
                }
                Expression::StaticMemberExpression(m) => &m.object,
                Expression::ComputedMemberExpression(m) => &m.object,
                Expression::ParenthesizedExpression(p) => &p.expression,
                Expression::SequenceExpression(seq) => match seq.expressions.last() {
                    Some(last) => last,
                    None => return false,
                },
                Expression::CallExpression(call) => {
                    return matches!(&call.callee, Expression::Identifier(id) if id.name.as_str() == "require")
                        || call.callee.as_member_expression().is_some();
                }
                Expression::ChainExpression(_) | Expression::AwaitExpression(_) => return true,
                _ => return false,
            };
        }
        false
    }

    /// Cheap pre-check for [`Self::value_use`]: false when the root of the member chain
    /// cannot resolve to a path starting with `process` (a local, or an alias or global
    /// of another name), without building the path.
    fn may_name_process(&self, expr: &Expression<'a>) -> bool {
        let mut current = expr;
        for _ in 0..64 {
            current = match current {
                Expression::Identifier(id) => {
                    let name = id.name.as_str();
                    return match self.lookup(name) {
                        Some(Binding::Alias(path)) => {
                            path.starts_with("process") || GLOBAL_OBJECTS.contains(&path.as_str())
                        }
                        Some(_) => false,
                        None => name.starts_with("process") || GLOBAL_OBJECTS.contains(&name),
                    };
                }
                Expression::StaticMemberExpression(m) => &m.object,
                Expression::ComputedMemberExpression(m) => &m.object,
                Expression::ParenthesizedExpression(p) => &p.expression,
                _ => return true,
            };
        }
        true
    }

    fn interesting_read(path: &str) -> bool {
        let Some((root, _)) = path.split_once('.') else {
            return false;
        };
        !BORING_ROOTS.contains(&root) && !root.starts_with('?')
    }

    /// `expr` is used as a value as a whole (argument, spread, iterated, stored in a
    /// literal): records a whole read when it names `process` or `process.env`.
    fn value_use(&mut self, expr: &Expression<'a>) {
        let inner = expr.without_parentheses();
        if !matches!(inner, Expression::Identifier(_)) && inner.as_member_expression().is_none() {
            return;
        }
        if !self.may_name_process(inner) {
            return;
        }
        if let Some(path) = self.path_of(inner) {
            if path == "process" || path.starts_with("process.env") {
                let start = expr_start(inner);
                self.record_member_read(path, true, start);
            }
        }
    }

    fn record_string_literal(&mut self, value: &str, offset: u32) {
        for &byte in value.as_bytes() {
            self.out.string_histogram[byte as usize] += 1;
        }
        if value.len() > 200 && decode::looks_encoded(value) {
            self.out.long_encoded_strings += 1;
        }
        if value.is_empty() {
            return;
        }
        if self.out.strings.len() >= self.limits.max_strings {
            self.out.truncated = true;
            return;
        }
        let line = self.line(offset);
        let value = cut(value, self.limits.max_recorded_string);
        self.out.strings.push(StrConst {
            value,
            decoded: false,
            line,
        });
    }

    // ---- bindings -----------------------------------------------------------------------

    fn binding_for(&mut self, init: &Expression<'a>) -> Binding {
        let inner = init.without_parentheses();
        let aliasable = matches!(
            inner,
            Expression::Identifier(_)
                | Expression::CallExpression(_)
                | Expression::AwaitExpression(_)
                | Expression::SequenceExpression(_)
                | Expression::ChainExpression(_)
        ) || inner.as_member_expression().is_some();
        if aliasable {
            if let Expression::Identifier(id) = inner {
                if matches!(
                    self.lookup(id.name.as_str()),
                    Some(Binding::Const(_) | Binding::Local | Binding::Uninit)
                ) {
                    return match self.fold_identifier(id.name.as_str()) {
                        Value::Ident { .. } => Binding::Local,
                        value => Binding::Const(value),
                    };
                }
            }
            match self.resolve(inner, 0) {
                Some(Resolved::GlobalObject) => return Binding::Alias("globalThis".to_string()),
                Some(Resolved::Path(path)) => return Binding::Alias(path),
                None => {}
            }
        }
        match self.fold(init, 0) {
            Value::Unknown | Value::Ident { .. } => Binding::Local,
            value => Binding::Const(value),
        }
    }

    fn bind_pattern(&mut self, pattern: &BindingPattern<'a>, binding: Binding, depth: u32) {
        if depth > 32 {
            return;
        }
        match pattern {
            BindingPattern::BindingIdentifier(id) => {
                self.count_identifier(id.name.as_str());
                self.declare(id.name.as_str(), binding);
            }
            BindingPattern::ObjectPattern(object) => {
                for property in &object.properties {
                    let key = match &property.key {
                        PropertyKey::StaticIdentifier(id) => Some(id.name.as_str().to_string()),
                        PropertyKey::PrivateIdentifier(_) => None,
                        key => key
                            .as_expression()
                            .and_then(|e| self.fold(e, 1).as_str().map(str::to_string)),
                    };
                    if property.computed {
                        if let Some(expression) = property.key.as_expression() {
                            self.visit_expression(expression);
                        }
                    }
                    let sub = match (&binding, key) {
                        (Binding::Alias(path), Some(key)) => {
                            let path = if GLOBAL_OBJECTS.contains(&path.as_str()) {
                                key
                            } else {
                                format!("{path}.{key}")
                            };
                            if Self::interesting_read(&path) {
                                self.record_member_read(path.clone(), false, property.span.start);
                            }
                            Binding::Alias(path)
                        }
                        (Binding::Const(Value::Object { entries }), Some(key)) => entries
                            .iter()
                            .find(|(k, _)| *k == key)
                            .map(|(_, v)| Binding::Const(v.clone()))
                            .unwrap_or(Binding::Local),
                        _ => Binding::Local,
                    };
                    self.bind_pattern(&property.value, sub, depth + 1);
                }
                if let Some(rest) = &object.rest {
                    if let Binding::Alias(path) = &binding {
                        if path == "process" || path.starts_with("process.env") {
                            self.record_member_read(path.clone(), true, rest.span.start);
                        }
                    }
                    self.bind_pattern(&rest.argument, Binding::Local, depth + 1);
                }
            }
            BindingPattern::ArrayPattern(array) => {
                for (index, element) in array.elements.iter().enumerate() {
                    let Some(element) = element else { continue };
                    let sub = match &binding {
                        Binding::Const(Value::Array { items }) => items
                            .get(index)
                            .map(|v| Binding::Const(v.clone()))
                            .unwrap_or(Binding::Local),
                        _ => Binding::Local,
                    };
                    self.bind_pattern(element, sub, depth + 1);
                }
                if let Some(rest) = &array.rest {
                    self.bind_pattern(&rest.argument, Binding::Local, depth + 1);
                }
            }
            BindingPattern::AssignmentPattern(assign) => {
                self.visit_expression(&assign.right);
                let binding = match binding {
                    Binding::Local | Binding::Uninit => self.binding_for(&assign.right),
                    other => other,
                };
                self.bind_pattern(&assign.left, binding, depth + 1);
            }
        }
    }

    fn count_identifier(&mut self, name: &str) {
        self.out.identifiers += 1;
        if is_hex_identifier(name) {
            self.out.hex_identifiers += 1;
        }
    }
}

impl<'a> Visit<'a> for Walker<'a, '_> {
    fn enter_scope(&mut self, _flags: ScopeFlags, _scope_id: &std::cell::Cell<Option<ScopeId>>) {
        self.marks.push(self.bindings.len());
    }

    fn leave_scope(&mut self) {
        let mark = self.marks.pop().unwrap_or(0);
        while self.bindings.len() > mark {
            let Some((_, shadowed, name)) = self.bindings.pop() else {
                break;
            };
            if shadowed == NO_BINDING {
                self.scopes.remove(name);
            } else {
                self.scopes.insert(name, shadowed);
            }
        }
    }

    /// Top-level `const x = require('m')` bindings are declared before the walk, so
    /// functions written above them (and called later) resolve `x.f()` too.
    fn visit_program(&mut self, it: &Program<'a>) {
        for statement in &it.body {
            let Statement::VariableDeclaration(declaration) = statement else {
                continue;
            };
            for declarator in &declaration.declarations {
                let (BindingPattern::BindingIdentifier(id), Some(Expression::CallExpression(call))) =
                    (&declarator.id, &declarator.init)
                else {
                    continue;
                };
                if let Some(specifier) = self.require_specifier(call, 0) {
                    self.declare(id.name.as_str(), Binding::Alias(normalize_module(&specifier)));
                }
            }
        }
        walk::walk_program(self, it);
    }

    fn visit_expression(&mut self, it: &Expression<'a>) {
        let in_member_object = std::mem::take(&mut self.in_member_object);
        if self.depth >= self.limits.max_walk_depth {
            self.out.truncated = true;
            return;
        }
        if in_member_object
            && (it.as_member_expression().is_some()
                || matches!(
                    it,
                    Expression::ParenthesizedExpression(_) | Expression::ChainExpression(_)
                ))
        {
            self.in_member_object = true;
        }
        self.depth += 1;
        walk::walk_expression(self, it);
        self.depth -= 1;
    }

    fn visit_statement(&mut self, it: &Statement<'a>) {
        if self.depth >= self.limits.max_walk_depth {
            self.out.truncated = true;
            return;
        }
        self.depth += 1;
        walk::walk_statement(self, it);
        self.depth -= 1;
    }

    fn visit_identifier_reference(&mut self, it: &IdentifierReference<'a>) {
        self.count_identifier(it.name.as_str());
    }

    fn visit_binding_identifier(&mut self, it: &BindingIdentifier<'a>) {
        self.count_identifier(it.name.as_str());
        self.declare(it.name.as_str(), Binding::Local);
    }

    fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
        self.record_string_literal(it.value.as_str(), it.span.start);
    }

    fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
        for quasi in &it.quasis {
            if let Some(cooked) = &quasi.value.cooked {
                self.record_string_literal(cooked.as_str(), quasi.span.start);
            }
        }
        for expression in &it.expressions {
            self.visit_expression(expression);
        }
    }

    fn visit_array_expression(&mut self, it: &ArrayExpression<'a>) {
        if !it.elements.is_empty()
            && it
                .elements
                .iter()
                .all(|e| matches!(e, ArrayExpressionElement::StringLiteral(_)))
        {
            self.out.max_string_array = self.out.max_string_array.max(it.elements.len());
        }
        for element in &it.elements {
            if let Some(expression) = element.as_expression() {
                self.value_use(expression);
            }
        }
        walk::walk_array_expression(self, it);
    }

    fn visit_object_property(&mut self, it: &ObjectProperty<'a>) {
        self.value_use(&it.value);
        walk::walk_object_property(self, it);
    }

    fn visit_spread_element(&mut self, it: &SpreadElement<'a>) {
        self.value_use(&it.argument);
        walk::walk_spread_element(self, it);
    }

    fn visit_for_in_statement(&mut self, it: &ForInStatement<'a>) {
        self.value_use(&it.right);
        walk::walk_for_in_statement(self, it);
    }

    fn visit_static_member_expression(&mut self, it: &StaticMemberExpression<'a>) {
        let nested = std::mem::take(&mut self.in_member_object);
        if !nested && self.out.member_reads.len() < self.limits.max_member_reads && self.root_is_interesting(&it.object)
        {
            if let Some(Resolved::Path(mut path)) = self.resolve(&it.object, 0) {
                path.push('.');
                path.push_str(it.property.name.as_str());
                if Self::interesting_read(&path) {
                    self.record_member_read(path, false, it.span.start);
                }
            }
        }
        self.in_member_object = true;
        self.visit_expression(&it.object);
        self.in_member_object = false;
    }

    fn visit_computed_member_expression(&mut self, it: &ComputedMemberExpression<'a>) {
        let nested = std::mem::take(&mut self.in_member_object);
        if !nested && self.out.member_reads.len() < self.limits.max_member_reads && self.root_is_interesting(&it.object)
        {
            let member_path = match self.fold(&it.expression, 1) {
                Value::Str { value, .. } => Some(value),
                Value::Num { value } => Some(number_to_string(value)),
                _ => None,
            };
            if let Some(Resolved::Path(path)) = self.resolve(&it.object, 0) {
                // `process.env[name]`: a read of some variable; the object is what we know.
                let path = match member_path {
                    Some(key) => format!("{path}.{key}"),
                    None => path,
                };
                if Self::interesting_read(&path) {
                    self.record_member_read(path, false, it.span.start);
                }
            }
        }
        self.in_member_object = true;
        self.visit_expression(&it.object);
        self.in_member_object = false;
        self.visit_expression(&it.expression);
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        self.in_member_object = false;
        let callee = self.callee_name(&it.callee);
        let args = self.fold_arguments(&it.arguments, 0);
        if is_path_join(&callee) {
            self.record_join_tail(&args, it.span.start);
        }
        if is_require_path(&callee) {
            if let Some(Value::Str { value, .. }) = args.first() {
                let value = value.clone();
                self.add_import(&value);
            }
        }
        // The object of a method call is read (`process.env.X.split(',')`).
        if let Some(member) = it.callee.without_parentheses().as_member_expression() {
            if !self.root_is_interesting(member.object()) {
            } else if let Some(Resolved::Path(path)) = self.resolve(member.object(), 0) {
                if Self::interesting_read(&path) {
                    self.record_member_read(path, false, it.span.start);
                }
            }
        }
        self.record_call(callee, args, false, it.span);
        for argument in &it.arguments {
            if let Some(expression) = argument.as_expression() {
                self.value_use(expression);
            }
        }
        self.in_member_object = true;
        self.visit_expression(&it.callee);
        self.in_member_object = false;
        for argument in &it.arguments {
            self.visit_argument(argument);
        }
    }

    fn visit_new_expression(&mut self, it: &NewExpression<'a>) {
        self.in_member_object = false;
        let callee = self.callee_name(&it.callee);
        let args = self.fold_arguments(&it.arguments, 0);
        self.record_call(callee, args, true, it.span);
        for argument in &it.arguments {
            if let Some(expression) = argument.as_expression() {
                self.value_use(expression);
            }
        }
        self.in_member_object = true;
        self.visit_expression(&it.callee);
        self.in_member_object = false;
        for argument in &it.arguments {
            self.visit_argument(argument);
        }
    }

    fn visit_import_expression(&mut self, it: &ImportExpression<'a>) {
        let specifier = self.fold(&it.source, 0);
        if let Value::Str { value, .. } = &specifier {
            let value = value.clone();
            self.add_import(&value);
        }
        self.record_call("import".to_string(), vec![specifier], false, it.span);
        walk::walk_import_expression(self, it);
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        let source = it.source.value.as_str();
        self.add_import(source);
        self.record_string_literal(source, it.source.span.start);
        let module = normalize_module(source);
        let Some(specifiers) = &it.specifiers else { return };
        for specifier in specifiers {
            match specifier {
                ImportDeclarationSpecifier::ImportSpecifier(s) => {
                    let imported = match &s.imported {
                        ModuleExportName::IdentifierName(name) => name.name.as_str(),
                        ModuleExportName::IdentifierReference(name) => name.name.as_str(),
                        ModuleExportName::StringLiteral(name) => name.value.as_str(),
                    };
                    let path = if imported == "default" {
                        module.clone()
                    } else {
                        format!("{module}.{imported}")
                    };
                    self.count_identifier(s.local.name.as_str());
                    self.declare(s.local.name.as_str(), Binding::Alias(path));
                }
                ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                    self.count_identifier(s.local.name.as_str());
                    self.declare(s.local.name.as_str(), Binding::Alias(module.clone()));
                }
                ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => {
                    self.count_identifier(s.local.name.as_str());
                    self.declare(s.local.name.as_str(), Binding::Alias(module.clone()));
                }
            }
        }
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        self.add_import(it.source.value.as_str());
        walk::walk_export_all_declaration(self, it);
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        self.add_import(it.source.value.as_str());
        walk::walk_export_from_declaration(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        let binding = match &it.init {
            Some(init) => {
                self.visit_expression(init);
                self.binding_for(init)
            }
            None => Binding::Uninit,
        };
        self.bind_pattern(&it.id, binding, 0);
    }

    fn visit_for_of_statement(&mut self, it: &ForOfStatement<'a>) {
        walk::walk_for_of_statement(self, it);
    }

    fn visit_update_expression(&mut self, it: &UpdateExpression<'a>) {
        if let SimpleAssignmentTarget::AssignmentTargetIdentifier(id) = &it.argument {
            self.rebind(id.name.as_str(), Binding::Local);
        }
        walk::walk_update_expression(self, it);
    }

    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        self.value_use(&it.right);
        match &it.left {
            AssignmentTarget::AssignmentTargetIdentifier(id) => {
                let name = id.name.as_str();
                // Only a string being built is taken out of its binding (which is rebound
                // anyway); other bindings are not cloned.
                let current = match (self.lookup(name), it.operator) {
                    (Some(Binding::Const(Value::Str { value, decoded })), AssignmentOperator::Addition) => {
                        Some(Binding::Const(Value::Str {
                            value: value.clone(),
                            decoded: *decoded,
                        }))
                    }
                    (Some(Binding::Uninit), _) => Some(Binding::Uninit),
                    (Some(_), _) => Some(Binding::Local),
                    (None, _) => None,
                };
                let new_binding = match (current, it.operator) {
                    (Some(Binding::Uninit), AssignmentOperator::Assign) => Some(self.binding_for(&it.right)),
                    (Some(Binding::Const(Value::Str { value, decoded })), AssignmentOperator::Addition) => {
                        Some(match self.fold(&it.right, 0) {
                            Value::Str {
                                value: more,
                                decoded: d,
                            } if value.len() + more.len() <= self.limits.max_folded_len => {
                                let mut value = value;
                                value.push_str(&more);
                                let folded = self.str_value(value, decoded || d);
                                self.record_derived(&folded, it.span.start);
                                match folded {
                                    Value::Unknown => Binding::Local,
                                    v => Binding::Const(v),
                                }
                            }
                            _ => Binding::Local,
                        })
                    }
                    (Some(_), _) => Some(Binding::Local),
                    (None, _) => {
                        // Assignment to a global: `fetch = …`.
                        let value = self.fold(&it.right, 0);
                        if self.out.assignments.len() < self.limits.max_assignments {
                            let line = self.line(it.span.start);
                            let excerpt = self.excerpt(it.span);
                            self.out.assignments.push(Assignment {
                                target: name.to_string(),
                                value,
                                line,
                                excerpt,
                            });
                        }
                        None
                    }
                };
                if let Some(binding) = new_binding {
                    self.rebind(name, binding);
                }
            }
            target => {
                if let Some(member) = target.as_member_expression() {
                    let target_path = match self.resolve_member(member, 0, true) {
                        Some(Resolved::Path(path)) => Some(path),
                        Some(Resolved::GlobalObject) => None,
                        None => match member {
                            MemberExpression::StaticMemberExpression(m) => {
                                Some(unknown_callee("?.", m.property.name.as_str()))
                            }
                            MemberExpression::ComputedMemberExpression(m) => self
                                .fold(&m.expression, 1)
                                .as_str()
                                .map(|key| unknown_callee("?.", key)),
                            MemberExpression::PrivateFieldExpression(_) => None,
                        },
                    };
                    if let Some(target) = target_path {
                        if self.out.assignments.len() < self.limits.max_assignments {
                            let value = self.fold(&it.right, 0);
                            let line = self.line(it.span.start);
                            let excerpt = self.excerpt(it.span);
                            self.out.assignments.push(Assignment {
                                target,
                                value,
                                line,
                                excerpt,
                            });
                        } else {
                            self.out.truncated = true;
                        }
                    }
                }
            }
        }
        // The target is written, not read.
        self.in_member_object = true;
        self.visit_assignment_target(&it.left);
        self.in_member_object = false;
        self.visit_expression(&it.right);
    }
}

fn expr_start(expr: &Expression<'_>) -> u32 {
    use oxc_span::GetSpan;
    expr.span().start
}

/// Values that a path folds to: home directories become `~`.
fn fold_path(path: String) -> Value {
    match path.as_str() {
        "process.env.HOME" | "process.env.USERPROFILE" => Value::Str {
            value: "~".to_string(),
            decoded: false,
        },
        _ => Value::Member { path },
    }
}

fn is_path_join(path: &str) -> bool {
    matches!(
        path,
        "path.join" | "path.resolve" | "path.posix.join" | "path.win32.join" | "path.posix.resolve"
    )
}

fn is_require_path(path: &str) -> bool {
    matches!(
        path,
        "require" | "module.require" | "process.mainModule.require" | "require.main.require"
    )
}

/// `node:child_process` → `child_process`; `fs/promises` → `fs.promises`.
pub(crate) fn normalize_module(specifier: &str) -> String {
    let name = specifier.strip_prefix("node:").unwrap_or(specifier);
    match name {
        "fs/promises" | "dns/promises" | "timers/promises" | "stream/promises" | "readline/promises" => {
            name.replace('/', ".")
        }
        "child_process" | "fs" | "os" | "path" | "http" | "https" | "net" | "dns" | "vm" | "crypto" | "tls"
        | "dgram" | "zlib" | "url" | "util" | "worker_threads" | "cluster" | "module" | "process" | "buffer"
        | "http2" | "stream" | "events" | "readline" | "v8" | "inspector" => name.to_string(),
        _ => specifier.to_string(),
    }
}

pub(crate) fn number_to_string(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e21 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
#[test]
fn whitespace_position_matches_a_plain_search() {
    let samples: [&[u8]; 7] = [
        b"",
        b"abcdefghijklmnopq",
        b"abcdefghij klm",
        b"a\tb",
        b"abcdefgh\x0Cijkl",
        b"\x01\x02\x03\x04\x05\x06\x07\x08\x1F!abc\rdef",
        b"abcdefghijk\x0Bl",
    ];
    for sample in samples {
        let plain = sample
            .iter()
            .position(|&b| (b as char).is_whitespace())
            .unwrap_or(sample.len());
        assert_eq!(whitespace_position(sample), plain, "{sample:?}");
    }
}

#[cfg(test)]
#[test]
fn call_excerpts_are_bounded_excerpts_of_the_source() {
    // The ASCII fast path gives what `bounded_excerpt` gives for the call's source text.
    let alphabet = b"ab(){}.,'\" \t\n\r\x0B\x0C";
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..500 {
        let len = round % 400;
        let text: String = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                alphabet[(state % alphabet.len() as u64) as usize] as char
            })
            .collect();
        let scan = super::text::scan(&text);
        let walker = Walker::new(&text, &scan, WalkLimits::default());
        for (start, end) in [(0, len), (len / 3, len), (len / 2, len / 2 + 7)] {
            // A call's span starts at its callee, never at whitespace.
            let start = (start..len)
                .find(|&i| !(text.as_bytes()[i] as char).is_whitespace())
                .unwrap_or(len);
            let end = end.clamp(start, len);
            let span = oxc_span::Span::new(start as u32, end as u32);
            let source = &text[start..end.min(start + 180)];
            assert_eq!(
                walker.excerpt(span),
                palisade_core::bounded_excerpt(source, 160),
                "{source:?}"
            );
        }
    }
}

fn is_hex_identifier(name: &str) -> bool {
    name.len() >= 4 && name.starts_with("_0x") && name[3..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn cut(value: &str, max: usize) -> String {
    if value.len() <= max {
        return value.to_string();
    }
    let mut end = max;
    while end > 0 && !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_string()
}

/// A member key, as far as it is known.
enum Key<'k> {
    Str(&'k str),
    Num(f64),
    Other,
}

/// `object[key]` on folded values: array items and `length`, string `length`, object
/// entries; anything else is unknown.
fn index_value(object: &Value, key: &Key<'_>) -> Value {
    match (object, key) {
        (Value::Array { items }, Key::Num(value)) if *value >= 0.0 && value.fract() == 0.0 => {
            items.get(*value as usize).cloned().unwrap_or(Value::Unknown)
        }
        (Value::Array { items }, Key::Str("length")) => Value::Num {
            value: items.len() as f64,
        },
        (Value::Str { value, .. }, Key::Str("length")) => Value::Num {
            value: value.encode_utf16().count() as f64,
        },
        (Value::Object { entries }, Key::Str(key)) => entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Unknown),
        _ => Value::Unknown,
    }
}

/// An owned copy of a path with room to grow by a few members.
fn path_buffer(path: &str) -> String {
    let mut buffer = String::with_capacity(path.len() + 32);
    buffer.push_str(path);
    buffer
}

/// `prefix` + `name` in one allocation (`format!` costs more than the rest of a call's
/// bookkeeping).
fn unknown_callee(prefix: &str, name: &str) -> String {
    let mut callee = String::with_capacity(prefix.len() + name.len());
    callee.push_str(prefix);
    callee.push_str(name);
    callee
}

/// Index of the first ASCII whitespace byte (`u8::is_ascii_whitespace`), or the length:
/// eight bytes at a time skip words with no byte below `0x21` (all whitespace is).
fn whitespace_position(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let mut offset = 0;
    for word in bytes.chunks_exact(8) {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(word);
        let word = u64::from_le_bytes(lanes);
        // Non-zero when some byte of `word` is below 0x21 (exact for bytes below 0x80).
        if word.wrapping_sub(ONES * 0x21) & !word & HIGHS != 0 {
            break;
        }
        offset += 8;
    }
    bytes[offset..]
        .iter()
        .position(|&b| ASCII_WHITESPACE[b as usize])
        .map_or(bytes.len(), |p| offset + p)
}
