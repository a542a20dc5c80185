//! Writes a repository of N generated definitions: every agent with a flow of a given number of
//! nodes (a chain of LLM steps), and every 50th agent a router that references the three agents
//! before it by `${agent:KEY}`, so that apply has dependency order to keep.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

/// One router per this many agents; each references the three agents before it.
pub const ROUTER_EVERY: usize = 50;

/// Where a definition's graph is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphStyle {
    /// In the definition, as YAML (one flow-style mapping per node).
    Inline,
    /// In `flows/<key>.json` beside the definition, named by `graph_file` (as an editor exports it).
    File,
}

/// The shape of a generated repository.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub agents: usize,
    pub nodes: usize,
    pub graph: GraphStyle,
}

pub fn key(index: usize) -> String {
    format!("agent-{index:05}")
}

/// Whether the agent at `index` is a router (it references others).
pub fn is_router(index: usize) -> bool {
    index % ROUTER_EVERY == ROUTER_EVERY - 1
}

/// How many definitions reference others: they wait for what they reference.
pub fn routers(agents: usize) -> usize {
    (0..agents).filter(|i| is_router(*i)).count()
}

fn node(index: usize, step: usize, routes_to: Option<&str>) -> Value {
    let mut data = json!({
        "type": "llm",
        "title": format!("Step {step}"),
        "model": {"provider": "openai", "name": "gpt-4o-mini", "temperature": 0.2},
        "prompt": format!("You are step {step} of agent {index}. Answer in one short paragraph."),
    });
    if let Some(target) = routes_to {
        data["agent_id"] = Value::String(format!("${{agent:{target}}}"));
    }
    json!({
        "id": format!("n{step}"),
        "type": "custom",
        "position": {"x": step * 300, "y": 300},
        "data": data,
    })
}

fn edge(step: usize) -> Value {
    json!({"id": format!("e{step}"), "source": format!("n{}", step - 1), "target": format!("n{step}")})
}

/// The nodes and edges of agent `index`'s graph.
fn graph(index: usize, nodes: usize) -> (Vec<Value>, Vec<Value>) {
    let targets: Vec<String> = if is_router(index) {
        (1..=3).map(|back| key(index - back)).collect()
    } else {
        Vec::new()
    };
    let nodes: Vec<Value> = (0..nodes)
        .map(|step| node(index, step, targets.get(step).map(String::as_str)))
        .collect();
    let edges = (1..nodes.len()).map(edge).collect();
    (nodes, edges)
}

/// Writes `agents/` (and `agents/flows/` for graph files) under `root`.
pub fn write(root: &Path, shape: Shape) -> std::io::Result<()> {
    let agents = root.join("agents");
    std::fs::create_dir_all(agents.join("flows"))?;
    for index in 0..shape.agents {
        let key = key(index);
        let (nodes, edges) = graph(index, shape.nodes);
        let mut text = format!(
            "kind: agent\nkey: {key}\nname: Agent {index}\ndescription: Generated agent {index} of {total}\ntype: single-agent\nmode: flow-chat\ntags: [bench, group-{group}]\nflow:\n  mode: chat\n  features: {{opening_statement: \"Hello from agent {index}\"}}\n",
            total = shape.agents,
            group = index % 10,
        );
        match shape.graph {
            GraphStyle::Inline => {
                text.push_str("  graph:\n    nodes:\n");
                for node in &nodes {
                    text.push_str(&format!("      - {node}\n"));
                }
                text.push_str("    edges:\n");
                for edge in &edges {
                    text.push_str(&format!("      - {edge}\n"));
                }
            }
            GraphStyle::File => {
                text.push_str(&format!("  graph_file: flows/{key}.json\n"));
                let graph = json!({"nodes": nodes, "edges": edges});
                let file = std::fs::File::create(agents.join("flows").join(format!("{key}.json")))?;
                let mut out = std::io::BufWriter::new(file);
                serde_json::to_writer_pretty(&mut out, &graph)?;
                out.flush()?;
            }
        }
        std::fs::write(agents.join(format!("{key}.yaml")), text)?;
    }
    Ok(())
}
