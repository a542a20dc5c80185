//! The JSON Schemas: the committed files are what the code generates, the repository's own
//! definitions and configuration pass them, and an unknown field fails them.

use crate::fixture;

use std::path::Path;

use agentsync::json_schema;
use agentsync::text::yaml::{self, Node, Value as Yaml};
use fixture::Repo;
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A YAML file as JSON, through the project's own parser.
fn yaml_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read the file");
    yaml_text(&text)
}

fn yaml_text(text: &str) -> Value {
    let node = yaml::parse(text).expect("YAML").expect("a document");
    to_json(&node)
}

fn to_json(node: &Node) -> Value {
    match &node.value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => json!(b),
        Yaml::Int(i) => json!(i),
        Yaml::Float(f) => json!(f),
        Yaml::String(s) => json!(s),
        Yaml::Json(text) => serde_json::from_str(text).expect("JSON text"),
        Yaml::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), to_json(&e.value)))
                .collect(),
        ),
    }
}

fn committed(name: &str) -> Value {
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("schemas").join(name)).unwrap_or_else(|_| {
            panic!("schemas/{name} is missing: run `cargo run -- schema all --out schemas`")
        });
    serde_json::from_str(&text).expect("JSON")
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft7::new(schema).expect("a valid draft-7 schema")
}

fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    validator(schema)
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    for (name, schema) in json_schema::files() {
        let text = std::fs::read_to_string(Path::new(ROOT).join("schemas").join(&name))
            .unwrap_or_default();
        assert!(
            text == json_schema::text(&schema),
            "schemas/{name} is stale: run `cargo run -- schema all --out schemas` and commit it"
        );
    }
}

/// The schema file a definition's first line points at, and the definition as JSON.
fn pointed(file: &Path) -> (Value, Value) {
    let text = std::fs::read_to_string(file).unwrap();
    let line = text.lines().next().unwrap_or_default();
    let target = line
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("{} lacks the schema line", file.display()));
    let schema_path = file.parent().unwrap().join(target);
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap_or_else(|_| {
            panic!(
                "{} points at {}, which is missing",
                file.display(),
                schema_path.display()
            )
        }))
        .unwrap();
    (schema, yaml_text(&text))
}

#[test]
fn every_example_definition_passes_the_schema_it_points_at() {
    let mut checked = 0;
    for (dir, provider) in [("agents", "workfx"), ("voice-agents", "agent-workflows")] {
        let own = committed(&format!("{provider}.schema.json"));
        let any = committed("agent.schema.json");
        for file in agentsync::spec::definition_files(&Path::new(ROOT).join(dir)).unwrap() {
            let (schema, instance) = pointed(&file);
            for schema in [&schema, &own, &any] {
                assert_eq!(
                    errors(schema, &instance),
                    Vec::<String>::new(),
                    "{}",
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "{checked}");
}

#[test]
fn an_unknown_field_fails_the_schema() {
    let schema = committed("agent.schema.json");
    let mut instance = yaml_file(&Path::new(ROOT).join("agents/support/support-bot.yaml"));
    instance["nmae"] = json!("typo");
    assert!(!errors(&schema, &instance).is_empty());
    let mut nested = yaml_file(&Path::new(ROOT).join("agents/support/support-bot.yaml"));
    nested["flow"]["grpah"] = json!({});
    assert!(!errors(&committed("workfx.schema.json"), &nested).is_empty());
}

#[test]
fn the_schema_says_what_the_loader_says_about_wrong_values() {
    let schema = committed("workfx.schema.json");
    let base = json!({"kind": "agent", "key": "a", "name": "A"});
    assert!(errors(&schema, &base).is_empty());
    for (field, value) in [
        ("key", json!("Not_A_Key")),
        ("status", json!("paused")),
        ("tags", json!(["a,b"])),
        ("flow", json!({"mode": "chat"})),
        ("flow", json!({"graph": {}, "graph_file": "g.json"})),
    ] {
        let mut instance = base.clone();
        instance[field] = value.clone();
        assert!(!errors(&schema, &instance).is_empty(), "{field}: {value}");
    }
    let mut instance = base.clone();
    instance["description"] = Value::Null;
    assert!(
        errors(&schema, &instance).is_empty(),
        "null is a field left out"
    );
}

#[test]
fn an_agent_workflows_definition_passes_the_combined_schema() {
    let schema = committed("agent.schema.json");
    let instance = json!({
        "kind": "agent", "key": "voice", "name": "Voice", "folder": 3,
        "configuration": {"voice": "alloy"}, "definition": {"nodes": [], "edges": []},
    });
    assert!(errors(&schema, &instance).is_empty());
    assert!(!errors(&committed("workfx.schema.json"), &instance).is_empty());
    let mut reserved = instance.clone();
    reserved["configuration"]["agentsync"] = json!({});
    assert!(!errors(&committed("agent-workflows.schema.json"), &reserved).is_empty());
}

#[test]
fn the_configuration_passes_its_schema_and_an_unknown_setting_fails_it() {
    let schema = committed("agentsync.schema.json");
    let config = yaml_file(&Path::new(ROOT).join("agentsync.yaml"));
    assert_eq!(errors(&schema, &config), Vec::<String>::new());
    let mut typo = config.clone();
    typo["concurency"] = json!(4);
    assert!(!errors(&schema, &typo).is_empty());
    let targets = yaml_text(
        "publish: true\ntargets:\n  chat: {provider: workfx, endpoint: embedded}\n  voice:\n    provider: agent-workflows\n    endpoint: https://voice.example.com\n    definitions: voice\n",
    );
    assert_eq!(errors(&schema, &targets), Vec::<String>::new());
    let mut bad = targets.clone();
    bad["targets"]["chat"]["prune"] = json!(true);
    assert!(!errors(&schema, &bad).is_empty());
}

/// Every shape of value the configuration schema allows is one the loader accepts.
#[test]
fn values_the_configuration_schema_allows_are_accepted_by_the_loader() {
    let schema = committed("agentsync.schema.json");
    for setting in agentsync::config::settings::SETTINGS {
        for example in json_schema::setting_examples(setting.value) {
            let mut config = json!({"provider": "workfx", "endpoint": "embedded"});
            config[setting.key] = example.clone();
            assert!(
                errors(&schema, &config).is_empty(),
                "{}: {example}",
                setting.key
            );
            let repo = Repo::bare();
            let text = agentsync::text::yaml_emit::to_string(&config);
            repo.write("agentsync.yaml", &text);
            std::fs::create_dir_all(repo.path().join("agents")).unwrap();
            std::fs::create_dir_all(repo.path().join("x")).unwrap();
            let run = repo.run(&["validate"]);
            if run.code != Some(0) {
                run.fail(format_args!("{}: {example}\n{text}", setting.key));
            }
        }
    }
}

#[test]
fn the_schema_command_prints_what_is_committed() {
    let repo = Repo::bare();
    let run = repo.run(&["schema"]);
    run.expect_success();
    assert_eq!(run.json(), committed("agent.schema.json"));
    let run = repo.run(&["schema", "config"]);
    assert_eq!(run.json(), committed("agentsync.schema.json"));
    let run = repo.run(&[
        "schema",
        "definition",
        "--provider",
        "agent-workflows",
        "--out",
        "s.json",
    ]);
    run.expect_success();
    let written = std::fs::read_to_string(repo.path().join("s.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&written).unwrap(),
        committed("agent-workflows.schema.json")
    );
}
