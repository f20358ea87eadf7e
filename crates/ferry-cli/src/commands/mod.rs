pub mod backup;
pub mod baseline;
pub mod check;
pub mod diff;
pub mod generate;
pub mod hash;
pub mod init;
pub mod migrate;
pub mod pull;
pub mod push;
pub mod rebase;
pub mod rehearse;
pub mod repair;
pub mod reset;
pub mod rollback;
pub mod status;

use ferry_core::Plan;

/// Hazards of a plan, one line each, for stderr.
pub fn hazard_lines(plan: &Plan) -> Vec<String> {
    plan.hazards().map(|h| format!("warning: {h}")).collect()
}

/// The plan as SQL with each step's hazards as comments above it.
pub fn annotated_sql(plan: &Plan) -> String {
    let mut out = String::new();
    for stmt in &plan.before {
        out.push_str(&format!("{stmt};\n"));
    }
    for step in &plan.steps {
        for h in &step.hazards {
            out.push_str(&format!("-- {}: {}\n", h.kind.label(), h.message));
        }
        for stmt in &step.statements {
            out.push_str(&format!("{stmt};\n"));
        }
    }
    for stmt in plan.checks.iter().chain(&plan.after) {
        out.push_str(&format!("{stmt};\n"));
    }
    out
}
