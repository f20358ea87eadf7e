//! Pure knowledge of PostgreSQL spelling: canonical type names, identifier quoting and the
//! names the server gives unnamed constraints and indexes.

use ferry_core::{
    Change, Dialect, DialectKind, ImplicitName, Plan, PlanError, QualifiedName, Schema,
};

/// The PostgreSQL dialect.
#[derive(Clone, Copy, Debug, Default)]
pub struct Postgres;

impl Dialect for Postgres {
    fn kind(&self) -> DialectKind {
        DialectKind::Postgres
    }

    fn default_namespace(&self) -> &'static str {
        "public"
    }

    fn canonical_type(&self, written: &str) -> String {
        canonical_type(written)
    }

    fn serial_type(&self, written: &str) -> Option<&'static str> {
        match written.trim() {
            "serial" | "serial4" => Some("integer"),
            "bigserial" | "serial8" => Some("bigint"),
            "smallserial" | "serial2" => Some("smallint"),
            _ => None,
        }
    }

    fn implicit_name(&self, kind: ImplicitName, table: &str, columns: &[String]) -> String {
        implicit_name(kind, table, columns)
    }

    fn numbered_implicit_name(
        &self,
        kind: ImplicitName,
        table: &str,
        columns: &[String],
        n: usize,
    ) -> String {
        numbered_implicit_name(kind, table, columns, n)
    }

    fn plan(&self, from: &Schema, to: &Schema, changes: &[Change]) -> Result<Plan, PlanError> {
        crate::plan::plan(from, to, changes)
    }

    fn render_schema(&self, schema: &Schema) -> Vec<(String, String)> {
        crate::plan::render_schema(schema)
    }
}

/// Key words PostgreSQL's own `quote_ident` quotes: every category but "unreserved"
/// (reserved, type/function-name and column-name key words, PostgreSQL 15-17).
const KEYWORDS: &[&str] = &[
    // reserved
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "initially",
    "intersect",
    "into",
    "lateral",
    "leading",
    "limit",
    "localtime",
    "localtimestamp",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "placing",
    "primary",
    "references",
    "returning",
    "select",
    "session_user",
    "some",
    "symmetric",
    "system_user",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "when",
    "where",
    "window",
    "with",
    // type and function names
    "authorization",
    "binary",
    "collation",
    "concurrently",
    "cross",
    "current_schema",
    "freeze",
    "full",
    "ilike",
    "inner",
    "is",
    "isnull",
    "join",
    "left",
    "like",
    "natural",
    "notnull",
    "outer",
    "overlaps",
    "right",
    "similar",
    "tablesample",
    "verbose",
    // column names
    "between",
    "bigint",
    "bit",
    "boolean",
    "char",
    "character",
    "coalesce",
    "dec",
    "decimal",
    "exists",
    "extract",
    "float",
    "greatest",
    "grouping",
    "inout",
    "int",
    "integer",
    "interval",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "least",
    "merge_action",
    "national",
    "nchar",
    "none",
    "normalize",
    "nullif",
    "numeric",
    "out",
    "overlay",
    "position",
    "precision",
    "real",
    "row",
    "setof",
    "smallint",
    "substring",
    "time",
    "timestamp",
    "treat",
    "trim",
    "values",
    "varchar",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// `name` as an SQL identifier: bare when PostgreSQL would read it back unchanged,
/// double-quoted otherwise.
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    if plain && !KEYWORDS.contains(&name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, each part quoted only when needed.
pub fn quote_qualified(name: &QualifiedName) -> String {
    format!("{}.{}", quote_ident(&name.schema), quote_ident(&name.name))
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label`, where the longer of `name1` and
/// `name2` is shortened first, one byte at a time, so the result fits in 63 bytes.
pub(crate) fn make_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    const NAMEDATALEN: usize = 64;
    let mut overhead = 0;
    let mut n1 = name1.len();
    let mut n2 = 0;
    if let Some(n) = name2 {
        n2 = n.len();
        overhead += 1;
    }
    overhead += label.len() + 1;
    let avail = (NAMEDATALEN - 1).saturating_sub(overhead);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = clip(name1, n1).to_string();
    if let Some(n) = name2 {
        out.push('_');
        out.push_str(clip(n, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// The longest prefix of `s` of at most `len` bytes that ends on a character boundary
/// (`pg_mbcliplen`).
fn clip(s: &str, len: usize) -> &str {
    let mut n = len.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

/// Column names joined with `_` as `ChooseIndexNameAddition` does: it stops appending once
/// the text reaches NAMEDATALEN bytes.
fn name_addition(columns: &[String]) -> String {
    let mut buf = String::new();
    for c in columns {
        if !buf.is_empty() {
            buf.push('_');
        }
        buf.push_str(clip(c, 63));
        if buf.len() >= 64 {
            break;
        }
    }
    buf
}

/// The name PostgreSQL gives an unnamed constraint or index (before numbering duplicates).
pub fn implicit_name(kind: ImplicitName, table: &str, columns: &[String]) -> String {
    let (name2, label) = implicit_name_parts(kind, columns);
    make_object_name(table, name2.as_deref(), label)
}

/// `implicit_name` when that is taken: PostgreSQL appends a number to the label and
/// shortens the parts again (`ChooseConstraintName`).
pub fn numbered_implicit_name(
    kind: ImplicitName,
    table: &str,
    columns: &[String],
    n: usize,
) -> String {
    let (name2, label) = implicit_name_parts(kind, columns);
    make_object_name(table, name2.as_deref(), &format!("{label}{n}"))
}

/// The middle part and the label of an implicit name.
fn implicit_name_parts(kind: ImplicitName, columns: &[String]) -> (Option<String>, &'static str) {
    match kind {
        ImplicitName::PrimaryKey => (None, "pkey"),
        ImplicitName::Unique => (Some(name_addition(columns)), "key"),
        ImplicitName::Index => (Some(name_addition(columns)), "idx"),
        ImplicitName::Exclusion => (Some(name_addition(columns)), "excl"),
        ImplicitName::ForeignKey => (Some(name_addition(columns)), "fkey"),
        ImplicitName::Check => {
            // The column name is used only when the expression mentions exactly one column.
            let mut distinct: Vec<&String> = Vec::new();
            for c in columns {
                if !distinct.contains(&c) {
                    distinct.push(c);
                }
            }
            match distinct.as_slice() {
                [only] => (Some(only.to_string()), "check"),
                _ => (None, "check"),
            }
        }
    }
}

/// The sequence name `serial` creates for `table.column`.
pub(crate) fn serial_sequence_name(table: &str, column: &str) -> String {
    make_object_name(table, Some(column), "seq")
}

/// Built-in types whose name is already canonical and that take no modifier.
const PLAIN_TYPES: &[&str] = &[
    "text",
    "bytea",
    "date",
    "json",
    "jsonb",
    "uuid",
    "xml",
    "inet",
    "cidr",
    "macaddr",
    "macaddr8",
    "money",
    "tsvector",
    "tsquery",
    "point",
    "line",
    "lseg",
    "box",
    "path",
    "polygon",
    "circle",
    "oid",
    "name",
    "regclass",
    "regtype",
    "regproc",
    "regprocedure",
    "regoper",
    "regoperator",
    "regnamespace",
    "regrole",
    "regconfig",
    "regdictionary",
    "regcollation",
    "pg_lsn",
    "pg_snapshot",
    "txid_snapshot",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "int4multirange",
    "int8multirange",
    "nummultirange",
    "tsmultirange",
    "tstzmultirange",
    "datemultirange",
    "jsonpath",
    "xid",
    "xid8",
    "cid",
    "tid",
    "refcursor",
    "aclitem",
    "int2vector",
    "oidvector",
    "record",
];

/// The canonical spelling of a type as written in a file, i.e. what
/// `format_type(atttypid, atttypmod)` prints for built-in types and `schema.name` for
/// user types. Expects the loader's normalisation (lower-case unquoted words, single
/// spaces, no spaces inside parentheses) but tolerates a little more.
pub fn canonical_type(written: &str) -> String {
    let mut rest = written.trim().to_string();
    let mut array = false;
    loop {
        let t = rest.trim_end();
        if t.ends_with(']') {
            if let Some(open) = t.rfind('[') {
                let inner = &t[open + 1..t.len() - 1];
                if inner.trim().chars().all(|c| c.is_ascii_digit()) {
                    rest = t[..open].to_string();
                    array = true;
                    continue;
                }
            }
        }
        let lower = t.to_ascii_lowercase();
        if lower.ends_with(" array") && !t.ends_with('"') {
            rest = t[..t.len() - " array".len()].to_string();
            array = true;
            continue;
        }
        break;
    }
    let base = canonical_base(rest.trim());
    if array {
        format!("{base}[]")
    } else {
        base
    }
}

fn canonical_base(written: &str) -> String {
    let mut s = written;
    for prefix in ["pg_catalog.", "\"pg_catalog\"."] {
        if let Some(r) = s.strip_prefix(prefix) {
            s = r;
        }
    }
    if s == "\"char\"" {
        // The one-byte internal type; unquoted `char` is character(1).
        return s.to_string();
    }
    // Split `head(args) tail`; the modifier may sit between words (`timestamp(3) with
    // time zone`) or at the end (`interval day to second(3)`).
    let (head, args, tail) = match s.find('(') {
        Some(open) => match s[open..].find(')') {
            Some(close_rel) => {
                let close = open + close_rel;
                let args: String = s[open + 1..close].split_whitespace().collect();
                (s[..open].trim(), Some(args), s[close + 1..].trim())
            }
            None => (s, None, ""),
        },
        None => (s, None, ""),
    };
    if head.contains('"') || head.contains('.') {
        return user_type(head, args.as_deref()).unwrap_or_else(|| written.to_string());
    }
    let words: Vec<&str> = head
        .split_whitespace()
        .chain(tail.split_whitespace())
        .collect();
    let name = words.join(" ").to_ascii_lowercase();
    let with_args = |base: &str| match &args {
        Some(a) => format!("{base}({a})"),
        None => base.to_string(),
    };
    match name.as_str() {
        "int" | "integer" | "int4" => "integer".to_string(),
        "smallint" | "int2" => "smallint".to_string(),
        "bigint" | "int8" => "bigint".to_string(),
        "real" | "float4" => "real".to_string(),
        "double precision" | "float8" => "double precision".to_string(),
        "float" => match args.as_deref().map(str::parse::<u32>) {
            Some(Ok(p)) if p <= 24 => "real".to_string(),
            _ => "double precision".to_string(),
        },
        "numeric" | "decimal" | "dec" => match &args {
            Some(a) if !a.contains(',') => format!("numeric({a},0)"),
            _ => with_args("numeric"),
        },
        "boolean" | "bool" => "boolean".to_string(),
        "varchar"
        | "character varying"
        | "char varying"
        | "national character varying"
        | "national char varying"
        | "nchar varying" => with_args("character varying"),
        "char" | "character" | "nchar" | "national character" | "national char" => {
            format!("character({})", args.as_deref().unwrap_or("1"))
        }
        // bpchar without a length means "any length", unlike char.
        "bpchar" => match &args {
            Some(a) => format!("character({a})"),
            None => "bpchar".to_string(),
        },
        "timestamp" | "timestamp without time zone" => {
            format!("{} without time zone", with_args("timestamp"))
        }
        "timestamptz" | "timestamp with time zone" => {
            format!("{} with time zone", with_args("timestamp"))
        }
        "time" | "time without time zone" => format!("{} without time zone", with_args("time")),
        "timetz" | "time with time zone" => format!("{} with time zone", with_args("time")),
        "bit" => format!("bit({})", args.as_deref().unwrap_or("1")),
        "varbit" | "bit varying" => with_args("bit varying"),
        n if n == "interval" || n.starts_with("interval ") => with_args(n),
        n if PLAIN_TYPES.contains(&n) => with_args(n),
        _ => user_type(head, args.as_deref()).unwrap_or_else(|| written.to_string()),
    }
}

/// A user-defined type: `schema.name(args)`, `public` when unqualified.
fn user_type(head: &str, args: Option<&str>) -> Option<String> {
    let parts = ferry_sql::split_identifier(head)?;
    let (schema, name) = match parts.as_slice() {
        [name] => ("public".to_string(), name.clone()),
        [.., schema, name] => (schema.clone(), name.clone()),
        [] => return None,
    };
    let mut out = format!("{}.{}", quote_ident(&schema), quote_ident(&name));
    if let Some(a) = args {
        out.push('(');
        out.push_str(a);
        out.push(')');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_builtin_types() {
        let cases = [
            ("int", "integer"),
            ("int4", "integer"),
            ("integer", "integer"),
            ("int2", "smallint"),
            ("int8", "bigint"),
            ("bool", "boolean"),
            ("float4", "real"),
            ("float8", "double precision"),
            ("float", "double precision"),
            ("float(24)", "real"),
            ("float(25)", "double precision"),
            ("decimal(10,2)", "numeric(10,2)"),
            ("numeric(10)", "numeric(10,0)"),
            ("numeric", "numeric"),
            ("numeric(10, 2)", "numeric(10,2)"),
            ("varchar(40)", "character varying(40)"),
            ("varchar", "character varying"),
            ("character varying(40)", "character varying(40)"),
            ("char", "character(1)"),
            ("character", "character(1)"),
            ("char(5)", "character(5)"),
            ("bpchar", "bpchar"),
            ("bpchar(3)", "character(3)"),
            ("timestamp", "timestamp without time zone"),
            ("timestamp(3)", "timestamp(3) without time zone"),
            ("timestamptz", "timestamp with time zone"),
            ("timestamptz(3)", "timestamp(3) with time zone"),
            ("timestamp(3) with time zone", "timestamp(3) with time zone"),
            ("timestamp without time zone", "timestamp without time zone"),
            ("time", "time without time zone"),
            ("timetz(2)", "time(2) with time zone"),
            ("time with time zone", "time with time zone"),
            ("double precision", "double precision"),
            ("text", "text"),
            ("jsonb", "jsonb"),
            ("uuid", "uuid"),
            ("bytea", "bytea"),
            ("int[]", "integer[]"),
            ("int[][]", "integer[]"),
            ("int[3]", "integer[]"),
            ("integer array", "integer[]"),
            ("varchar(10)[]", "character varying(10)[]"),
            ("bit", "bit(1)"),
            ("bit(8)", "bit(8)"),
            ("varbit(8)", "bit varying(8)"),
            ("bit varying", "bit varying"),
            ("interval", "interval"),
            ("interval(3)", "interval(3)"),
            ("interval day to second(3)", "interval day to second(3)"),
            ("interval year to month", "interval year to month"),
            ("pg_catalog.int4", "integer"),
            ("\"char\"", "\"char\""),
        ];
        for (written, canonical) in cases {
            assert_eq!(canonical_type(written), canonical, "{written}");
        }
    }

    #[test]
    fn canonical_user_types() {
        assert_eq!(canonical_type("mood"), "public.mood");
        assert_eq!(canonical_type("mood[]"), "public.mood[]");
        assert_eq!(canonical_type("\"mood\""), "public.mood");
        assert_eq!(canonical_type("s.mood"), "s.mood");
        assert_eq!(
            canonical_type("\"My Schema\".\"Weird Type\""),
            "\"My Schema\".\"Weird Type\""
        );
        assert_eq!(canonical_type("\"Mood\""), "public.\"Mood\"");
        assert_eq!(canonical_type("vector(3)"), "public.vector(3)");
        assert_eq!(canonical_type("public.citext"), "public.citext");
    }

    #[test]
    fn serial_types() {
        assert_eq!(Postgres.serial_type("serial"), Some("integer"));
        assert_eq!(Postgres.serial_type("bigserial"), Some("bigint"));
        assert_eq!(Postgres.serial_type("serial2"), Some("smallint"));
        assert_eq!(Postgres.serial_type("integer"), None);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("users"), "users");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("my table"), "\"my table\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("1abc"), "\"1abc\"");
        assert_eq!(quote_ident("_x$1"), "_x$1");
        assert_eq!(quote_ident("name"), "name");
        assert_eq!(quote_ident("time"), "\"time\"");
        assert_eq!(quote_ident(""), "\"\"");
        assert_eq!(
            quote_qualified(&QualifiedName::new("My Schema", "t")),
            "\"My Schema\".t"
        );
    }

    #[test]
    fn implicit_names() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            implicit_name(ImplicitName::PrimaryKey, "users", &[]),
            "users_pkey"
        );
        assert_eq!(
            implicit_name(ImplicitName::Unique, "users", &cols(&["email"])),
            "users_email_key"
        );
        assert_eq!(
            implicit_name(ImplicitName::Unique, "users", &cols(&["a", "b"])),
            "users_a_b_key"
        );
        assert_eq!(
            implicit_name(ImplicitName::ForeignKey, "orders", &cols(&["user_id"])),
            "orders_user_id_fkey"
        );
        assert_eq!(
            implicit_name(ImplicitName::Index, "orders", &cols(&["lower", "id"])),
            "orders_lower_id_idx"
        );
        assert_eq!(
            implicit_name(ImplicitName::Exclusion, "rooms", &cols(&["during", "room"])),
            "rooms_during_room_excl"
        );
        assert_eq!(
            implicit_name(ImplicitName::Check, "t", &cols(&["price"])),
            "t_price_check"
        );
        assert_eq!(
            implicit_name(ImplicitName::Check, "t", &cols(&["price", "price"])),
            "t_price_check"
        );
        assert_eq!(
            implicit_name(ImplicitName::Check, "t", &cols(&["a", "b"])),
            "t_check"
        );
        assert_eq!(implicit_name(ImplicitName::Check, "t", &[]), "t_check");
    }

    #[test]
    fn implicit_names_truncate_like_postgres() {
        // Checked against PostgreSQL 15: CREATE TABLE <70 a's> (<70 b's> int UNIQUE) etc.
        let t = "a".repeat(70);
        let c = "b".repeat(70);
        let truncated_t = &t[..63];
        let truncated_c = &c[..63];
        let name = implicit_name(
            ImplicitName::Unique,
            truncated_t,
            &[truncated_c.to_string()],
        );
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_key", "a".repeat(29), "b".repeat(29)));
        // The shorter name is kept whole when it fits.
        let name = implicit_name(ImplicitName::ForeignKey, "orders", &[c[..60].to_string()]);
        assert_eq!(name, format!("orders_{}_fkey", "b".repeat(51)));
        assert_eq!(name.len(), 63);
        let name = implicit_name(ImplicitName::PrimaryKey, truncated_t, &[]);
        assert_eq!(name, format!("{}_pkey", "a".repeat(58)));
        // Multi-byte characters are never split.
        let t = "é".repeat(40);
        let name = implicit_name(ImplicitName::PrimaryKey, &t, &[]);
        assert!(name.len() <= 63);
        assert!(name.ends_with("_pkey"));
        assert_eq!(name, format!("{}_pkey", "é".repeat(29)));
    }

    #[test]
    fn split_identifiers() {
        assert_eq!(
            ferry_sql::split_identifier("a.\"B c\".d"),
            Some(vec!["a".into(), "B c".into(), "d".into()])
        );
        assert_eq!(
            ferry_sql::split_identifier("\"x\"\"y\""),
            Some(vec!["x\"y".into()])
        );
        assert_eq!(ferry_sql::split_identifier("a b"), None);
        assert_eq!(ferry_sql::split_identifier("\"open"), None);
    }
}
