//! Functions, procedures and triggers (PostgreSQL): CREATE [OR REPLACE], COMMENT ON,
//! ALTER ... RENAME / OWNER, and (replayed migrations) DROP.
//!
//! The same code reads the server's own text (`pg_get_functiondef`, `pg_get_triggerdef`)
//! when a database is inspected, so both sides store the same canonical values.

use sqlparser::tokenizer::Token;

use super::*;

/// Pseudo-types and other names that are types only in function signatures; kept as
/// written (lower case) instead of being taken for user types.
const PSEUDO_TYPES: &[&str] = &[
    "any",
    "anyelement",
    "anyarray",
    "anynonarray",
    "anyenum",
    "anyrange",
    "anymultirange",
    "anycompatible",
    "anycompatiblearray",
    "anycompatiblenonarray",
    "anycompatiblerange",
    "anycompatiblemultirange",
    "cstring",
    "internal",
    "language_handler",
    "fdw_handler",
    "table_am_handler",
    "index_am_handler",
    "tsm_handler",
    "record",
    "trigger",
    "event_trigger",
    "pg_ddl_command",
    "void",
    "unknown",
];

/// A function or procedure named by a statement (`GRANT EXECUTE ON FUNCTION f(int)`),
/// before it is looked up.
#[derive(Clone, Debug)]
pub(super) struct RoutineRef {
    pub(super) name: QualifiedName,
    /// Input argument types and all argument types as written (canonical); `None` for a
    /// bare name.
    pub(super) args: Option<(Vec<String>, Vec<String>)>,
    /// The argument list uses a form ferry does not model (`%TYPE`): it names no function
    /// ferry knows.
    pub(super) unmodelled: bool,
    /// Where the name starts, for errors.
    pub(super) at: (u64, u64),
}

/// A parsed argument list item.
struct ArgSpec {
    mode: ArgMode,
    name: Option<String>,
    data_type: String,
    default: Option<String>,
}

impl Loader<'_> {
    /// The canonical type of a function argument or result: type modifiers dropped (the
    /// server does not keep them), pseudo-types as they are, everything else the way
    /// columns spell it.
    fn function_type(&self, written: &str) -> String {
        let mut plain = String::new();
        let mut depth = 0;
        for c in written.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ if depth == 0 => plain.push(c),
                _ => {}
            }
        }
        let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
        let lower = plain.to_ascii_lowercase();
        let bare = lower.strip_prefix("pg_catalog.").unwrap_or(&lower);
        if PSEUDO_TYPES.contains(&bare) {
            return bare.to_string();
        }
        self.dialect.canonical_type(&plain)
    }

    /// `CREATE [OR REPLACE] FUNCTION | PROCEDURE ...`, after `CREATE [OR REPLACE]`.
    /// `Ok(false)` (opaque) for forms ferry does not model (`WINDOW`, `TRANSFORM`,
    /// `SUPPORT`, `%TYPE` arguments).
    pub(super) fn create_function(
        &mut self,
        p: &mut StmtParser,
        or_replace: bool,
    ) -> PResult<bool> {
        let procedure = p.eat_word("procedure");
        if !procedure {
            p.expect_word("function")?;
        }
        let at = p.here();
        let name = self.qualified(p)?;
        let Some(specs) = self.arg_list(p)? else {
            return Ok(false);
        };
        let mut args = Vec::new();
        for s in specs {
            args.push(FunctionArg {
                mode: s.mode,
                name: s.name,
                data_type: s.data_type,
                default: s.default.map(|d| expr(&d, self.kind)),
            });
        }
        let mut returns = None;
        let mut language = None;
        let mut body = None;
        let mut volatility = "volatile".to_string();
        let mut strict = false;
        let mut security_definer = false;
        let mut leakproof = false;
        let mut parallel = "unsafe".to_string();
        let mut cost: Option<String> = None;
        let mut rows: Option<String> = None;
        let mut config = Vec::new();
        loop {
            if p.current().is_none() {
                break;
            }
            if p.eat_word("returns") {
                if p.eat_words(&["null", "on", "null", "input"]) {
                    strict = true;
                    continue;
                }
                if procedure {
                    return Err(p.error("a procedure has no RETURNS clause"));
                }
                returns = Some(self.return_type(p)?);
            } else if p.eat_word("language") {
                let lang = match p.current().map(|t| t.token.clone()) {
                    Some(Token::SingleQuotedString(_)) => p.string_literal()?,
                    _ => p.ident()?,
                };
                language = Some(lang.to_lowercase());
            } else if p.eat_word("as") {
                let first = self.body_string(p)?;
                if p.eat(&Token::Comma) {
                    let symbol = self.body_string(p)?;
                    body = Some(FunctionBody::ObjectFile(first, symbol));
                } else {
                    body = Some(FunctionBody::Definition(first));
                }
            } else if p.peek_word("return") {
                // A SQL-standard body: `RETURN expr`, last in the statement.
                p.pos += 1;
                let text = p.rest_text();
                if text.is_empty() {
                    return Err(p.error("expected an expression after RETURN"));
                }
                let key = format!("return {}", expr(&text, self.kind).key);
                body = Some(FunctionBody::Sql(Expr {
                    sql: format!("RETURN {text}"),
                    key,
                }));
            } else if p.peek_words(&["begin", "atomic"]) {
                let start = p.pos;
                p.pos = p.toks.len();
                let text = render(&p.toks[start..]);
                let key = atomic_key(&p.toks[start..]);
                body = Some(FunctionBody::Sql(Expr { sql: text, key }));
            } else if p.eat_word("immutable") {
                volatility = "immutable".into();
            } else if p.eat_word("stable") {
                volatility = "stable".into();
            } else if p.eat_word("volatile") {
                volatility = "volatile".into();
            } else if p.eat_words(&["not", "leakproof"]) {
                leakproof = false;
            } else if p.eat_word("leakproof") {
                leakproof = true;
            } else if p.eat_words(&["called", "on", "null", "input"]) {
                strict = false;
            } else if p.eat_word("strict") {
                strict = true;
            } else if p.eat_words(&["external", "security"]) || p.eat_word("security") {
                if p.eat_word("definer") {
                    security_definer = true;
                } else {
                    p.expect_word("invoker")?;
                    security_definer = false;
                }
            } else if p.eat_word("parallel") {
                let level = p.ident()?;
                if !["safe", "restricted", "unsafe"].contains(&level.as_str()) {
                    return Err(p.error("expected SAFE, RESTRICTED or UNSAFE after PARALLEL"));
                }
                parallel = level;
            } else if p.eat_word("cost") {
                cost = Some(number(p)?);
            } else if p.eat_word("rows") {
                rows = Some(number(p)?);
            } else if p.eat_word("set") {
                let name = config_name(p)?;
                if p.eat_words(&["from", "current"]) {
                    // Resolved by the server when the function is created.
                    return Ok(false);
                }
                if !(p.eat_word("to") || p.eat(&Token::Eq)) {
                    return Err(p.unexpected("(expected TO or = after the parameter name)"));
                }
                let mut values = Vec::new();
                loop {
                    values.push(config_value(p)?);
                    if !p.eat(&Token::Comma) {
                        break;
                    }
                }
                config.retain(|(n, _): &(String, String)| *n != name);
                config.push((name, values.join(", ")));
            } else if p.peek_word("window") || p.peek_word("transform") || p.peek_word("support") {
                return Ok(false);
            } else {
                return Err(p.unexpected(&format!("in the definition of {}", name)));
            }
        }
        let Some(body) = body else {
            return Err(p.error_at(
                at,
                &format!("{} {name} has no body (AS ...)", kind_word(procedure)),
            ));
        };
        let language = match language {
            Some(l) => l,
            None if matches!(body, FunctionBody::Sql(_)) => "sql".to_string(),
            None => {
                return Err(p.error_at(
                    at,
                    &format!("{} {name} has no LANGUAGE", kind_word(procedure)),
                ))
            }
        };
        if !procedure && returns.is_none() {
            let outs: Vec<&FunctionArg> = args
                .iter()
                .filter(|a| matches!(a.mode, ArgMode::Out | ArgMode::InOut))
                .collect();
            returns = Some(match outs.as_slice() {
                [] => return Err(p.error_at(at, &format!("function {name} has no RETURNS clause"))),
                [one] => one.data_type.clone(),
                _ => "record".to_string(),
            });
        }
        let default_cost = if language == "c" || language == "internal" {
            1.0
        } else {
            100.0
        };
        let cost = cost.filter(|c| c.parse::<f64>().ok() != Some(default_cost));
        let set_returning = returns
            .as_deref()
            .is_some_and(|r| r.starts_with("SETOF ") || r.starts_with("TABLE("));
        let rows = rows.filter(|r| set_returning && r.parse::<f64>().ok() != Some(1000.0));
        let function = Function {
            name,
            procedure,
            args,
            returns,
            language,
            body,
            volatility,
            strict,
            security_definer,
            leakproof,
            parallel,
            cost,
            rows,
            config,
            comment: None,
            grants: ferry_core::function_default_grants(),
        };
        let id = function.id();
        if let Some(old) = self.schema.functions.get(&id) {
            if !or_replace {
                return Err(p.error_at(at, &format!("function {id} already exists")));
            }
            if old.procedure != procedure {
                return Err(p.error_at(
                    at,
                    &format!("cannot change the kind of {id} (function or procedure)"),
                ));
            }
        }
        // CREATE OR REPLACE keeps the comment and the privileges.
        let mut function = function;
        if let Some(old) = self.schema.functions.get(&id) {
            function.comment = old.comment.clone();
            function.grants = old.grants.clone();
        }
        self.schema.functions.insert(id, function);
        Ok(true)
    }

    /// `(arg, ...)`; `None` when an argument uses a form ferry does not model (`%TYPE`).
    fn arg_list(&mut self, p: &mut StmtParser) -> PResult<Option<Vec<ArgSpec>>> {
        p.expect(&Token::LParen)?;
        let mut out = Vec::new();
        if p.eat(&Token::RParen) {
            return Ok(Some(out));
        }
        loop {
            let Some(arg) = self.arg(p)? else {
                return Ok(None);
            };
            out.push(arg);
            if p.eat(&Token::Comma) {
                continue;
            }
            p.expect(&Token::RParen)?;
            return Ok(Some(out));
        }
    }

    fn arg(&mut self, p: &mut StmtParser) -> PResult<Option<ArgSpec>> {
        let at_arg_end = |p: &StmtParser| {
            matches!(
                p.current().map(|t| &t.token),
                Some(Token::Comma) | Some(Token::RParen) | Some(Token::Eq)
            ) || p.peek_word("default")
        };
        let mut mode = ArgMode::In;
        for (word, m) in [
            ("in", ArgMode::In),
            ("out", ArgMode::Out),
            ("inout", ArgMode::InOut),
            ("variadic", ArgMode::Variadic),
        ] {
            // A mode word followed by the end of the argument is a type name.
            if p.peek_word(word)
                && !matches!(
                    p.toks.get(p.pos + 1).map(|t| &t.token),
                    Some(Token::Comma) | Some(Token::RParen) | None
                )
            {
                p.pos += 1;
                mode = m;
                break;
            }
        }
        let start = p.pos;
        let written = p.type_name()?;
        // `b character varying` reads as one type: a multi-word type starts with one of
        // these words, anything else before it is the argument's name.
        const MULTI_WORD_STARTS: &[&str] = &[
            "double",
            "character",
            "char",
            "national",
            "nchar",
            "bit",
            "time",
            "timestamp",
            "interval",
        ];
        let named_multi_word = written
            .split_once(' ')
            .is_some_and(|(first, _)| !first.contains('.') && !MULTI_WORD_STARTS.contains(&first));
        let (name, written) = if !written.is_empty() && at_arg_end(p) && !named_multi_word {
            (None, written)
        } else {
            p.pos = start;
            let name = p.ident()?;
            let written = p.type_name()?;
            if written.is_empty() {
                return Err(p.unexpected("(expected an argument type)"));
            }
            (Some(name), written)
        };
        if p.peek(&Token::Mod) {
            // `table.column%TYPE`: resolved by the server, not modelled.
            return Ok(None);
        }
        if !at_arg_end(p) {
            return Err(p.unexpected("in an argument list"));
        }
        let default = if p.eat_word("default") || p.eat(&Token::Eq) {
            let start = p.pos;
            let mut depth = 0;
            while let Some(t) = p.current() {
                match t.token {
                    Token::LParen | Token::LBracket => depth += 1,
                    Token::RParen | Token::RBracket if depth == 0 => break,
                    Token::RParen | Token::RBracket => depth -= 1,
                    Token::Comma if depth == 0 => break,
                    _ => {}
                }
                p.pos += 1;
            }
            if p.pos == start {
                return Err(p.unexpected("(expected a default value)"));
            }
            Some(render(&p.toks[start..p.pos]))
        } else {
            None
        };
        Ok(Some(ArgSpec {
            mode,
            name,
            data_type: self.function_type(&written),
            default,
        }))
    }

    /// After `RETURNS`: `SETOF type`, `TABLE (name type, ...)` or a type.
    fn return_type(&mut self, p: &mut StmtParser) -> PResult<String> {
        if p.eat_word("setof") {
            let t = p.type_name()?;
            if t.is_empty() {
                return Err(p.unexpected("(expected a type after SETOF)"));
            }
            return Ok(format!("SETOF {}", self.function_type(&t)));
        }
        if p.peek_word("table")
            && p.toks
                .get(p.pos + 1)
                .is_some_and(|t| t.token == Token::LParen)
        {
            p.pos += 1;
            let cols = p.paren_list(|p| {
                let name = p.ident()?;
                let t = p.type_name()?;
                if t.is_empty() {
                    return Err(p.unexpected("(expected a column type)"));
                }
                Ok((name, t))
            })?;
            let cols: Vec<String> = cols
                .into_iter()
                .map(|(n, t)| format!("{} {}", quote_pg(&n), self.function_type(&t)))
                .collect();
            return Ok(format!("TABLE({})", cols.join(", ")));
        }
        let t = p.type_name()?;
        if t.is_empty() {
            return Err(p.unexpected("(expected a return type)"));
        }
        Ok(self.function_type(&t))
    }

    /// A string constant of a function definition: `'...'`, `E'...'` or `$tag$...$tag$`.
    fn body_string(&mut self, p: &mut StmtParser) -> PResult<String> {
        if let Some(Token::DollarQuotedString(s)) = p.current().map(|t| t.token.clone()) {
            p.pos += 1;
            return Ok(s.value);
        }
        p.string_literal()
    }

    /// Finds the function a statement names: `name(argtypes)`, or a bare `name` that must
    /// be unique. The argument list may give names and modes; OUT arguments are ignored
    /// unless they are needed to tell procedures apart.
    fn find_function(
        &mut self,
        p: &mut StmtParser,
        procedure: Option<bool>,
    ) -> PResult<(QualifiedName, Option<FunctionId>, (u64, u64))> {
        let r = self.routine_ref(p)?;
        let found = self
            .resolve_routine(&r, procedure)
            .map_err(|e| p.error_at(r.at, &e))?;
        Ok((r.name, found, r.at))
    }

    /// A function named in a statement: `name(argtypes)` or a bare `name`, resolved later
    /// by [`Self::resolve_routine`].
    pub(super) fn routine_ref(&mut self, p: &mut StmtParser) -> PResult<RoutineRef> {
        let at = p.here();
        let name = self.qualified(p)?;
        if !p.peek(&Token::LParen) {
            return Ok(RoutineRef {
                name,
                args: None,
                unmodelled: false,
                at,
            });
        }
        let Some(specs) = self.arg_list(p)? else {
            return Ok(RoutineRef {
                name,
                args: None,
                unmodelled: true,
                at,
            });
        };
        let inputs: Vec<String> = specs
            .iter()
            .filter(|s| s.mode != ArgMode::Out)
            .map(|s| s.data_type.clone())
            .collect();
        let all: Vec<String> = specs.iter().map(|s| s.data_type.clone()).collect();
        Ok(RoutineRef {
            name,
            args: Some((inputs, all)),
            unmodelled: false,
            at,
        })
    }

    /// The declared function `r` names (a procedure or not, when `procedure` says), `None`
    /// when there is none; an error when a bare name fits several.
    pub(super) fn resolve_routine(
        &self,
        r: &RoutineRef,
        procedure: Option<bool>,
    ) -> Result<Option<FunctionId>, String> {
        let name = &r.name;
        if r.unmodelled {
            return Ok(None);
        }
        let Some((inputs, all)) = &r.args else {
            let candidates: Vec<&FunctionId> = self
                .schema
                .functions
                .iter()
                .filter(|(id, f)| id.name == *name && procedure.is_none_or(|k| k == f.procedure))
                .map(|(id, _)| id)
                .collect();
            return match candidates.as_slice() {
                [one] => Ok(Some((*one).clone())),
                [] => Ok(None),
                _ => Err(format!(
                    "function name {name} is not unique: give its argument types"
                )),
            };
        };
        Ok(self
            .schema
            .functions
            .iter()
            .filter(|(id, f)| id.name == *name && procedure.is_none_or(|k| k == f.procedure))
            .find(|(id, f)| {
                id.args == *inputs
                    || id.args == *all
                    || f.args
                        .iter()
                        .filter(|a| a.mode != ArgMode::Out)
                        .map(|a| &a.data_type)
                        .eq(inputs.iter())
            })
            .map(|(id, _)| id.clone()))
    }

    /// `COMMENT ON FUNCTION | PROCEDURE | ROUTINE | TRIGGER ...`, after `COMMENT ON`.
    pub(super) fn comment_on_routine(&mut self, p: &mut StmtParser) -> PResult<bool> {
        if p.eat_word("trigger") {
            let at = p.here();
            let name = p.ident()?;
            p.expect_word("on")?;
            let table = self.qualified(p)?;
            let text = comment_text(p)?;
            return match self.schema.triggers.get_mut(&(table.clone(), name.clone())) {
                Some(t) => {
                    t.comment = text;
                    Ok(true)
                }
                None if self.replay && self.opaque_objects.contains(&table) => Ok(false),
                None => {
                    Err(p.error_at(at, &format!("COMMENT ON unknown trigger {name} on {table}")))
                }
            };
        }
        let procedure = if p.eat_word("procedure") {
            Some(true)
        } else if p.eat_word("function") {
            Some(false)
        } else {
            p.expect_word("routine")?;
            None
        };
        let (name, id, at) = self.find_function(p, procedure)?;
        let text = comment_text(p)?;
        match id.and_then(|id| self.schema.functions.get_mut(&id)) {
            Some(f) => {
                f.comment = text;
                Ok(true)
            }
            // In a migration, the function may come from an extension: kept opaque.
            None if self.replay => Ok(false),
            None => Err(p.error_at(at, &format!("COMMENT ON unknown function {name}"))),
        }
    }

    /// `ALTER FUNCTION | PROCEDURE | ROUTINE name[(args)] RENAME TO | OWNER TO | SET SCHEMA`,
    /// after `ALTER`. Other forms (changing attributes) stay opaque.
    pub(super) fn alter_routine(&mut self, p: &mut StmtParser) -> PResult<bool> {
        let procedure = if p.eat_word("procedure") {
            Some(true)
        } else if p.eat_word("function") {
            Some(false)
        } else {
            p.expect_word("routine")?;
            None
        };
        let (name, id, at) = self.find_function(p, procedure)?;
        if p.peek_words(&["owner", "to"]) {
            // Ownership is not part of the schema ferry manages.
            return Ok(true);
        }
        let new_name = if p.eat_words(&["rename", "to"]) {
            QualifiedName::new(name.schema.clone(), p.ident()?)
        } else if p.eat_words(&["set", "schema"]) {
            QualifiedName::new(p.ident()?, name.name.clone())
        } else {
            return Ok(false);
        };
        p.expect_end()?;
        let Some(id) = id else {
            if self.replay {
                return Ok(false);
            }
            return Err(p.error_at(at, &format!("function {name} does not exist")));
        };
        let mut f = self.schema.functions.remove(&id).expect("found above");
        f.name = new_name.clone();
        let new_id = f.id();
        if self.schema.functions.contains_key(&new_id) {
            self.schema.functions.insert(id, f);
            return Err(p.error_at(at, &format!("function {new_id} already exists")));
        }
        // Triggers name their function: they follow it.
        for t in self.schema.triggers.values_mut() {
            if t.function == name {
                t.function = new_name.clone();
            }
        }
        self.schema.functions.insert(new_id, f);
        Ok(true)
    }

    /// `DROP FUNCTION | PROCEDURE | ROUTINE [IF EXISTS] name[(args)] [, ...]` and
    /// `DROP TRIGGER [IF EXISTS] name ON table`, replayed; after `DROP`. `None`: not one of
    /// these.
    pub(super) fn replay_drop_routine(&mut self, p: &mut StmtParser) -> PResult<Option<bool>> {
        if p.eat_word("trigger") {
            let if_exists = p.eat_words(&["if", "exists"]);
            let at = p.here();
            let name = p.ident()?;
            p.expect_word("on")?;
            let table = self.qualified(p)?;
            let _ = p.eat_word("cascade") || p.eat_word("restrict");
            p.expect_end()?;
            if self
                .schema
                .triggers
                .remove(&(table.clone(), name.clone()))
                .is_some()
            {
                return Ok(Some(true));
            }
            if self.opaque_objects.contains(&table) {
                return Ok(Some(false));
            }
            if if_exists {
                return Ok(Some(true));
            }
            return Err(p.error_at(at, &format!("trigger {name} on {table} does not exist")));
        }
        let procedure = if p.eat_word("procedure") {
            Some(true)
        } else if p.eat_word("function") {
            Some(false)
        } else if p.eat_word("routine") {
            None
        } else {
            return Ok(None);
        };
        let if_exists = p.eat_words(&["if", "exists"]);
        let mut keep_opaque = false;
        loop {
            let (name, id, at) = self.find_function(p, procedure)?;
            match id {
                Some(id) => {
                    let users: Vec<String> = self
                        .schema
                        .triggers
                        .values()
                        .filter(|t| t.function == name)
                        .map(|t| format!("{} on {}", t.name, t.table))
                        .collect();
                    let cascade = p.toks.last().is_some_and(|t| is_word(&t.token, "cascade"));
                    if !users.is_empty() && !cascade {
                        return Err(p.error_at(
                            at,
                            &format!(
                                "cannot drop {id}: trigger {} depends on it (use CASCADE to drop it too)",
                                users[0]
                            ),
                        ));
                    }
                    self.schema.triggers.retain(|_, t| t.function != name);
                    self.schema.functions.remove(&id);
                }
                None if if_exists => {}
                // Functions also come from extensions and other statements ferry keeps
                // opaque: an unknown one is kept opaque (and reported), not an error.
                None => keep_opaque = true,
            }
            if !p.eat(&Token::Comma) {
                break;
            }
        }
        let _ = p.eat_word("cascade") || p.eat_word("restrict");
        p.expect_end()?;
        Ok(Some(!keep_opaque))
    }

    /// `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER ...`, after `CREATE [OR REPLACE]`.
    pub(super) fn create_trigger(&mut self, p: &mut StmtParser, or_replace: bool) -> PResult<bool> {
        let constraint = p.eat_word("constraint");
        p.expect_word("trigger")?;
        let at = p.here();
        let name = p.ident()?;
        let timing = if p.eat_word("before") {
            TriggerTiming::Before
        } else if p.eat_word("after") {
            TriggerTiming::After
        } else if p.eat_words(&["instead", "of"]) {
            TriggerTiming::InsteadOf
        } else {
            return Err(p.unexpected("(expected BEFORE, AFTER or INSTEAD OF)"));
        };
        let mut events = Vec::new();
        let mut update_columns = Vec::new();
        loop {
            let event = if p.eat_word("insert") {
                TriggerEvent::Insert
            } else if p.eat_word("update") {
                if p.eat_word("of") {
                    loop {
                        update_columns.push(p.ident()?);
                        if !p.eat(&Token::Comma) {
                            break;
                        }
                    }
                }
                TriggerEvent::Update
            } else if p.eat_word("delete") {
                TriggerEvent::Delete
            } else if p.eat_word("truncate") {
                TriggerEvent::Truncate
            } else {
                return Err(p.unexpected("(expected INSERT, UPDATE, DELETE or TRUNCATE)"));
            };
            if !events.contains(&event) {
                events.push(event);
            }
            if !p.eat_word("or") {
                break;
            }
        }
        events.sort();
        p.expect_word("on")?;
        let table = self.qualified(p)?;
        let mut trigger = Trigger {
            table: table.clone(),
            name: name.clone(),
            timing,
            events,
            update_columns,
            for_each_row: false,
            when: None,
            function: QualifiedName::new(self.default_ns(), String::new()),
            arguments: Vec::new(),
            constraint,
            deferrable: Deferrable::NotDeferrable,
            from_table: None,
            old_table: None,
            new_table: None,
            enabled: TriggerEnabled::Origin,
            comment: None,
        };
        loop {
            if p.eat_word("from") {
                trigger.from_table = Some(self.qualified(p)?);
            } else if p.peek_word("deferrable")
                || p.peek_words(&["not", "deferrable"])
                || p.peek_word("initially")
            {
                trigger.deferrable = p.deferrable();
            } else if p.eat_word("referencing") {
                loop {
                    let old = if p.eat_word("old") {
                        true
                    } else if p.eat_word("new") {
                        false
                    } else {
                        break;
                    };
                    if !(p.eat_word("table") || p.eat_word("row")) {
                        return Err(p.unexpected("(expected TABLE)"));
                    }
                    p.eat_word("as");
                    let n = p.ident()?;
                    if old {
                        trigger.old_table = Some(n);
                    } else {
                        trigger.new_table = Some(n);
                    }
                }
            } else if p.eat_word("for") {
                p.eat_word("each");
                if p.eat_word("row") {
                    trigger.for_each_row = true;
                } else {
                    p.expect_word("statement")?;
                    trigger.for_each_row = false;
                }
            } else if p.eat_word("when") {
                let e = p.paren_expr()?;
                trigger.when = Some(expr(&e, self.kind));
            } else if p.eat_word("execute") {
                if !(p.eat_word("function") || p.eat_word("procedure")) {
                    return Err(p.unexpected("(expected FUNCTION after EXECUTE)"));
                }
                trigger.function = self.qualified(p)?;
                trigger.arguments = p.paren_list(trigger_argument)?;
                break;
            } else {
                return Err(p.unexpected(&format!("in the definition of trigger {name}")));
            }
        }
        p.expect_end()?;
        if constraint {
            // A constraint trigger is always FOR EACH ROW.
            trigger.for_each_row = true;
        }
        let key = (table.clone(), name.clone());
        if let Some(old) = self.schema.triggers.get(&key) {
            if !or_replace || old.constraint || constraint {
                return Err(p.error_at(
                    at,
                    &format!("trigger {name} for relation {table} already exists"),
                ));
            }
            trigger.comment = old.comment.clone();
            trigger.enabled = old.enabled;
        }
        self.schema.triggers.insert(key, trigger);
        Ok(true)
    }

    /// `ENABLE [REPLICA | ALWAYS] TRIGGER name | ALL | USER` or `DISABLE TRIGGER ...`, an
    /// action of `ALTER TABLE table`. `Ok(false)`: not such an action (nothing consumed)
    /// or a trigger ferry does not know (kept opaque).
    pub(super) fn alter_table_trigger_state(
        &mut self,
        p: &mut StmtParser,
        table: &QualifiedName,
    ) -> PResult<bool> {
        let save = p.pos;
        let state = if p.eat_word("disable") {
            TriggerEnabled::Disabled
        } else if p.eat_word("enable") {
            if p.eat_word("replica") {
                TriggerEnabled::Replica
            } else if p.eat_word("always") {
                TriggerEnabled::Always
            } else {
                TriggerEnabled::Origin
            }
        } else {
            return Ok(false);
        };
        if !p.eat_word("trigger") {
            // ENABLE ROW LEVEL SECURITY, ENABLE RULE ...
            p.pos = save;
            return Ok(false);
        }
        let at = p.here();
        let all = p.peek_word("all") || p.peek_word("user");
        let name = p.ident()?;
        let mut found = false;
        for ((t, n), trigger) in self.schema.triggers.iter_mut() {
            if t == table && (all || *n == name) {
                trigger.enabled = state;
                found = true;
            }
        }
        if !found && !all {
            return Err(p.error_at(at, &format!("trigger {name} on {table} does not exist")));
        }
        Ok(true)
    }

    /// `ALTER TRIGGER name ON table RENAME TO new`, after `ALTER`.
    pub(super) fn alter_trigger(&mut self, p: &mut StmtParser) -> PResult<bool> {
        p.expect_word("trigger")?;
        let at = p.here();
        let name = p.ident()?;
        p.expect_word("on")?;
        let table = self.qualified(p)?;
        if !p.eat_words(&["rename", "to"]) {
            return Ok(false);
        }
        let new_name = p.ident()?;
        p.expect_end()?;
        let Some(mut t) = self.schema.triggers.remove(&(table.clone(), name.clone())) else {
            if self.replay && self.opaque_objects.contains(&table) {
                return Ok(false);
            }
            return Err(p.error_at(at, &format!("trigger {name} on {table} does not exist")));
        };
        t.name = new_name.clone();
        self.schema.triggers.insert((table, new_name), t);
        Ok(true)
    }

    /// `function name(types)` of the first function in `ns`, for DROP SCHEMA's refusal.
    pub(super) fn first_function_in(&self, ns: &str) -> Option<String> {
        self.schema
            .functions
            .keys()
            .find(|id| id.name.schema == ns)
            .map(|id| format!("function {id}"))
    }

    /// DROP SCHEMA ... CASCADE (replay): its functions go, with the triggers calling them.
    pub(super) fn forget_functions_in(&mut self, ns: &str) {
        self.schema.functions.retain(|id, _| id.name.schema != ns);
        self.schema.triggers.retain(|_, t| t.function.schema != ns);
    }

    /// ALTER SCHEMA ... RENAME (replay): its functions move, and triggers follow them.
    pub(super) fn move_functions_in(&mut self, old: &str, new: &str) {
        let moved: Vec<FunctionId> = self
            .schema
            .functions
            .keys()
            .filter(|id| id.name.schema == old)
            .cloned()
            .collect();
        for id in moved {
            if let Some(mut f) = self.schema.functions.remove(&id) {
                f.name.schema = new.to_string();
                // Argument types in the schema move with it.
                let prefix = format!("{old}.");
                for a in &mut f.args {
                    if let Some(rest) = a.data_type.strip_prefix(&prefix) {
                        a.data_type = format!("{new}.{rest}");
                    }
                }
                self.schema.functions.insert(f.id(), f);
            }
        }
        for t in self.schema.triggers.values_mut() {
            if t.function.schema == old {
                t.function.schema = new.to_string();
            }
        }
    }

    /// A table or view was dropped (replay): its triggers go with it.
    pub(super) fn forget_triggers(&mut self, table: &QualifiedName) {
        self.schema.triggers.retain(|(t, _), _| t != table);
    }

    /// A table or view was renamed or moved (replay): its triggers follow it.
    pub(super) fn move_triggers(&mut self, old: &QualifiedName, new: &QualifiedName) {
        let keys: Vec<(QualifiedName, String)> = self
            .schema
            .triggers
            .keys()
            .filter(|(t, _)| t == old)
            .cloned()
            .collect();
        for key in keys {
            if let Some(mut t) = self.schema.triggers.remove(&key) {
                t.table = new.clone();
                self.schema.triggers.insert((new.clone(), key.1), t);
            }
        }
        for t in self.schema.triggers.values_mut() {
            if t.from_table.as_ref() == Some(old) {
                t.from_table = Some(new.clone());
            }
        }
    }
}

fn kind_word(procedure: bool) -> &'static str {
    if procedure {
        "procedure"
    } else {
        "function"
    }
}

/// `IS 'text' | IS NULL` and the end of the statement.
fn comment_text(p: &mut StmtParser) -> PResult<Option<String>> {
    let text = p.comment_text()?;
    Ok(text)
}

/// A number as the server prints it back (`10`, `10.5`).
fn number(p: &mut StmtParser) -> PResult<String> {
    match p.current().map(|t| t.token.clone()) {
        Some(Token::Number(n, _)) => {
            p.pos += 1;
            match n.parse::<f64>() {
                Ok(v) => Ok(format!("{v}")),
                Err(_) => Err(p.error(&format!("`{n}` is not a number"))),
            }
        }
        _ => Err(p.unexpected("(expected a number)")),
    }
}

/// A configuration parameter name (`search_path`, `plpgsql.variable_conflict`), lower case:
/// the server prints some in their own case (`"TimeZone"`).
fn config_name(p: &mut StmtParser) -> PResult<String> {
    let mut name = p.ident()?;
    while p.eat(&Token::Period) {
        name.push('.');
        name.push_str(&p.ident()?);
    }
    Ok(name.to_lowercase())
}

/// One value of `SET name = value, ...`, without quotes.
fn config_value(p: &mut StmtParser) -> PResult<String> {
    let negative = p.eat(&Token::Minus);
    let sign = if negative { "-" } else { "" };
    match p.current().map(|t| t.token.clone()) {
        Some(Token::SingleQuotedString(_)) | Some(Token::EscapedStringLiteral(_)) => {
            p.string_literal()
        }
        Some(Token::Number(n, _)) => {
            p.pos += 1;
            Ok(format!("{sign}{n}"))
        }
        Some(Token::Word(_)) => p.ident(),
        _ => Err(p.unexpected("(expected a parameter value)")),
    }
}

/// A trigger function argument: a string, a number or a name, passed as a string.
fn trigger_argument(p: &mut StmtParser) -> PResult<String> {
    config_value(p)
}

/// A normalised form of a `BEGIN ATOMIC ... END` body: lower-case words, single spaces.
/// The server prints such bodies rewritten, so only bodies written the way it prints them
/// compare equal.
fn atomic_key(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => w.value.to_lowercase(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
