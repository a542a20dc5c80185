//! Tests of the export: keys, files, refusals, and the round trip through the loader.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::model::content::Content;
use crate::provider::ProviderKind;
use crate::spec::interpolate::interpolate;

fn agent(id: &str, fields: Value) -> RemoteAgent {
    RemoteAgent {
        id: id.to_string(),
        key: None,
        code: Some(format!("CODE_{id}")),
        protected: false,
        pruned: false,
        unrecorded: false,
        fields: fields.as_object().cloned().unwrap_or_default(),
        lifecycle: Lifecycle::Active,
    }
}

fn with_flow(agent: RemoteAgent, draft: Value, live: Option<Value>) -> Remote {
    Remote {
        agent,
        content: Some(RemoteContent {
            draft: draft.as_object().map(Content::new),
            live_version: live.as_ref().map(|_| "1".to_string()),
            live: live.and_then(|l| l.as_object().map(Content::new)),
        }),
    }
}

fn plain(agent: RemoteAgent) -> Remote {
    Remote {
        agent,
        content: None,
    }
}

struct Setup {
    dir: PathBuf,
    existing: Vec<Existing>,
    occupied: BTreeSet<PathBuf>,
    kind: ProviderKind,
    only: Option<Vec<String>>,
    force: bool,
    key_from: KeyFrom,
}

impl Setup {
    fn new() -> Setup {
        Setup {
            dir: PathBuf::from("/repo/agents"),
            existing: Vec::new(),
            occupied: BTreeSet::new(),
            kind: ProviderKind::Workfx,
            only: None,
            force: false,
            key_from: KeyFrom::Name,
        }
    }

    fn request(&self) -> Request<'_> {
        Request {
            schema: self.kind.definition_schema(),
            capabilities: self.kind.capabilities(),
            platform: self.kind.name(),
            dir: &self.dir,
            existing: &self.existing,
            occupied: &self.occupied,
            key_from: self.key_from,
            only: self.only.as_deref(),
            force: self.force,
            schema_file: Some(Path::new("/repo/schemas/agent.schema.json")),
            inline_lines: INLINE_LINES,
        }
    }

    fn export(&self, remote: &[Remote]) -> Result<Export, ExportError> {
        let request = self.request();
        let selection = select(&request, remote)?;
        build(&request, selection, remote)
    }
}

fn keys(export: &Export) -> Vec<String> {
    export.agents.iter().map(|a| a.key.to_string()).collect()
}

#[test]
fn unmanaged_agents_get_keys_from_their_names_without_clashes() {
    let mut setup = Setup::new();
    setup.existing.push(Existing {
        key: Key::parse("billing").unwrap(),
        file: setup.dir.join("billing.yaml"),
        name: None,
        from_env: Vec::new(),
        env: Vec::new(),
    });
    setup.occupied.insert(setup.dir.join("taken.yaml"));
    let remote = [
        plain(agent("1", json!({"name": "Support Bot"}))),
        plain(agent("2", json!({"name": "Support  bot!"}))),
        plain(agent("3", json!({"name": "Billing"}))),
        plain(agent("4", json!({"name": "Taken"}))),
        plain(agent("5", json!({"name": "🤖"}))),
    ];
    let export = setup.export(&remote).unwrap();
    assert_eq!(
        keys(&export),
        [
            "support-bot",
            "support-bot-2",
            "billing-2",
            "taken-2",
            "agent"
        ]
    );
    assert_eq!(
        export.agents[0].files[0].path,
        PathBuf::from("/repo/agents/support-bot.yaml")
    );
}

#[test]
fn keys_can_come_from_codes_and_an_agent_without_one_is_named() {
    let mut setup = Setup::new();
    setup.key_from = KeyFrom::Code;
    let export = setup
        .export(&[plain(agent("7", json!({"name": "A"})))])
        .unwrap();
    assert_eq!(keys(&export), ["code-7"]);
    let mut no_code = agent("8", json!({"name": "B"}));
    no_code.code = None;
    let err = setup.export(&[plain(no_code)]).unwrap_err();
    assert!(err.to_string().contains("no code for '8'"), "{err}");
}

#[test]
fn a_managed_agent_keeps_its_key_and_an_agent_already_defined_is_skipped() {
    let mut setup = Setup::new();
    let file = setup.dir.join("support/bot.yaml");
    setup.existing.push(Existing {
        key: Key::parse("bot").unwrap(),
        file: file.clone(),
        name: Some("Bot".into()),
        from_env: Vec::new(),
        env: Vec::new(),
    });
    setup.occupied.insert(file.clone());
    let mut managed = agent("1", json!({"name": "Bot"}));
    managed.key = Some(Key::parse("bot").unwrap());
    let mut elsewhere = agent("2", json!({"name": "Other"}));
    elsewhere.key = Some(Key::parse("other").unwrap());
    elsewhere.protected = true;
    let remote = [plain(managed), plain(elsewhere)];

    let export = setup.export(&remote).unwrap();
    assert_eq!(keys(&export), ["other"]);
    assert!(export.agents[0].files[0].text.contains("protect: true"));
    assert_eq!(export.skipped.len(), 1);
    assert_eq!(export.skipped[0].file, file);

    // --force takes the defined one too, into its own file.
    setup.force = true;
    let export = setup.export(&remote).unwrap();
    assert_eq!(keys(&export), ["bot", "other"]);
    assert_eq!(export.agents[0].files[0].path, file);
    assert!(export.agents[0].files[0].exists);
}

#[test]
fn an_unmanaged_agent_named_like_a_definition_not_applied_yet_takes_its_key() {
    let mut setup = Setup::new();
    let file = setup.dir.join("bot.yaml");
    setup.existing.push(Existing {
        key: Key::parse("helper").unwrap(),
        file: file.clone(),
        name: Some("Bot".into()),
        from_env: Vec::new(),
        env: Vec::new(),
    });
    setup.occupied.insert(file.clone());
    setup.only = Some(vec!["Bot".into()]);
    let remote = [plain(agent("1", json!({"name": "Bot"})))];
    let err = setup.export(&remote).unwrap_err();
    assert!(
        matches!(&err, ExportError::WouldOverwrite { files } if files == std::slice::from_ref(&file)),
        "{err}"
    );
    setup.force = true;
    let export = setup.export(&remote).unwrap();
    assert_eq!(keys(&export), ["helper"]);
}

#[test]
fn only_matches_names_and_ids_and_unknown_values_are_named() {
    let mut setup = Setup::new();
    let remote = [
        plain(agent("id-1", json!({"name": "One"}))),
        plain(agent("id-2", json!({"name": "Two"}))),
        plain(agent("id-3", json!({"name": "Three"}))),
    ];
    setup.only = Some(vec!["One".into(), "id-3".into()]);
    assert_eq!(keys(&setup.export(&remote).unwrap()), ["one", "three"]);
    setup.only = Some(vec!["One".into(), "Nope".into(), "id-9".into()]);
    let err = setup.export(&remote).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no agent on workfx is named 'Nope', 'id-9' or has that id; nothing was written"
    );
}

#[test]
fn every_file_that_would_be_replaced_is_listed_and_force_allows_it() {
    let mut setup = Setup::new();
    let big_graph = json!({"nodes": (0..200).map(|i| json!({"id": format!("n{i}"), "data": {"x": i}})).collect::<Vec<_>>()});
    setup.occupied.insert(setup.dir.join("big.graph.json"));
    setup.occupied.insert(setup.dir.join("small.yaml"));
    let remote = [
        with_flow(
            agent("1", json!({"name": "Big"})),
            json!({"graph": big_graph}),
            None,
        ),
        plain(agent("2", json!({"name": "Small"}))),
    ];
    let err = setup.export(&remote).unwrap_err();
    assert_eq!(
        err.to_string(),
        "1 file would be overwritten: /repo/agents/big.graph.json; nothing was written. Run again with --force to overwrite it"
    );
    setup.force = true;
    let export = setup.export(&remote).unwrap();
    let big = &export.agents[0];
    assert_eq!(big.files.len(), 2);
    assert!(
        big.files[0].text.contains("graph_file: big.graph.json"),
        "{}",
        big.files[0].text
    );
    assert!(big.files[1].exists);
}

#[test]
fn a_draft_ahead_of_live_is_written_with_publish_false_and_a_reason() {
    let setup = Setup::new();
    let remote = [
        with_flow(
            agent("1", json!({"name": "Ahead"})),
            json!({"mode": "chat", "graph": {"nodes": [2]}}),
            Some(json!({"mode": "chat", "graph": {"nodes": [1]}})),
        ),
        with_flow(
            agent("2", json!({"name": "Live"})),
            json!({"mode": "chat", "graph": {"nodes": [1]}}),
            Some(json!({"mode": "chat", "graph": {"nodes": [1]}})),
        ),
        with_flow(
            agent("3", json!({"name": "Draft only"})),
            json!({"mode": "chat", "graph": {}}),
            None,
        ),
    ];
    let export = setup.export(&remote).unwrap();
    let text = |i: usize| export.agents[i].files[0].text.clone();
    assert!(
        text(0).contains(
            "publish: false  # the draft differs from the live version (1); set publish: true to publish it"
        ),
        "{}",
        text(0)
    );
    assert!(!text(1).contains("publish:"), "{}", text(1));
    assert!(
        text(2).contains("publish: false  # never published"),
        "{}",
        text(2)
    );
    assert!(text(0).starts_with("# yaml-language-server: $schema=../schemas/agent.schema.json\nkind: agent\nkey: ahead\nname: Ahead\nstatus: active\n"), "{}", text(0));
}

#[test]
fn secrets_become_placeholders_and_templates_and_numbers_stay() {
    let setup = Setup::new();
    let flow = json!({
        "graph": {"nodes": [{"data": {
            "headers": [{"name": "Authorization", "value": "Bearer abc"}, {"name": "Accept", "value": "json"}],
            "authorization": {"type": "no-auth"},
            "api_key": "sk-123",
            "max_tokens": 512,
            "token": "{{#env.TOKEN#}}",
            "prompt": "costs ${5} and $${x}",
        }}]},
        "flow_variables": {"BILLING_API_TOKEN": "tok", "API_BASE": "https://x"},
    });
    let remote = [with_flow(agent("1", json!({"name": "S"})), flow, None)];
    let export = setup.export(&remote).unwrap();
    let text = &export.agents[0].files[0].text;
    for expected in [
        "value: ${env:S_AUTHORIZATION}",
        "value: json",
        "type: no-auth",
        "api_key: ${env:S_API_KEY}",
        "max_tokens: 512",
        "token: \"{{#env.TOKEN#}}\"",
        "prompt: costs $${5} and $$${x}",
        "BILLING_API_TOKEN: ${env:S_BILLING_API_TOKEN}",
        "API_BASE: https://x",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    for secret in ["Bearer abc", "sk-123", "tok\n"] {
        assert!(!text.contains(secret), "{secret}\n{text}");
    }
    let names: Vec<_> = export.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        ["S_AUTHORIZATION", "S_API_KEY", "S_BILLING_API_TOKEN"]
    );
}

#[test]
fn a_secret_found_under_its_name_is_replaced_wherever_else_it_appears() {
    let setup = Setup::new();
    // The prompt comes before the secret's own field: the first pass finds it.
    let flow = json!({
        "graph": {"nodes": [{"data": {"prompt": "send sk-live-0a1b2c3d with it", "api_key": "sk-live-0a1b2c3d"}}]},
    });
    let remote = [
        with_flow(agent("1", json!({"name": "S"})), flow, None),
        plain(agent(
            "2",
            json!({"name": "T", "description": "sk-live-0a1b2c3d"}),
        )),
    ];
    let export = setup.export(&remote).unwrap();
    let text: String = export
        .agents
        .iter()
        .map(|a| a.files[0].text.as_str())
        .collect();
    assert!(!text.contains("sk-live"), "{text}");
    assert!(
        text.contains("prompt: send ${env:S_API_KEY} with it")
            && text.contains("description: ${env:S_API_KEY}"),
        "{text}"
    );
    assert_eq!(export.variables.len(), 1);
}

#[test]
fn a_secret_in_a_field_that_cannot_hold_a_reference_refuses_the_export() {
    let setup = Setup::new();
    let flow = json!({"graph": {"api_key": "sk-live-0a1b2c3d"}});
    let remote = [with_flow(
        agent("1", json!({"name": "S", "tags": ["sk-live-0a1b2c3d"]})),
        flow,
        None,
    )];
    let err = setup.export(&remote).unwrap_err();
    assert!(
        matches!(&err, ExportError::SecretInClear { path, .. } if path.to_string() == "tags[0]"),
        "{err}"
    );
    assert!(!err.to_string().contains("sk-live"), "{err}");
}

#[test]
fn a_file_replaced_keeps_its_environment_references_at_their_place_or_by_value() {
    let mut setup = Setup::new();
    setup.force = true;
    let file = setup.dir.join("s.yaml");
    setup.occupied.insert(file.clone());
    let secret = |s: &str| crate::provider::http::Secret::new(s);
    let at = |p: &str| FieldPath::try_from(p.to_string()).unwrap();
    setup.existing.push(Existing {
        key: Key::parse("s").unwrap(),
        file,
        name: Some("S".into()),
        // Two variables of one value: each place keeps its own.
        from_env: vec![
            secrets::FromEnv {
                path: at("flow.flow_variables.A"),
                written: "${env:ONE}".into(),
                value: secret("same-value-1234"),
            },
            secrets::FromEnv {
                path: at("flow.flow_variables.B"),
                written: "${env:TWO}".into(),
                value: secret("same-value-1234"),
            },
            secrets::FromEnv {
                path: at("description"),
                written: "costs $${5}, token ${env:ONE}".into(),
                value: secret("costs ${5}, token same-value-1234"),
            },
        ],
        env: vec![
            secrets::Known {
                name: "ONE".into(),
                value: secret("same-value-1234"),
            },
            secrets::Known {
                name: "TWO".into(),
                value: secret("same-value-1234"),
            },
        ],
    });
    let flow = json!({"flow_variables": {
        "A": "same-value-1234",
        "B": "same-value-1234",
        "MOVED": "costs ${5}, token same-value-1234",
        "api_key": "same-value-1234",
    }});
    let mut remote = agent(
        "1",
        json!({"name": "S", "description": "costs ${5}, token same-value-1234"}),
    );
    remote.key = Some(Key::parse("s").unwrap());
    let export = setup.export(&[with_flow(remote, flow, None)]).unwrap();
    let text = &export.agents[0].files[0].text;
    for expected in [
        "A: ${env:ONE}",
        "B: ${env:TWO}",
        "MOVED: costs $${5}, token ${env:ONE}",
        "api_key: ${env:ONE}",
        "description: costs $${5}, token ${env:ONE}",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    assert!(!text.contains("same-value"), "{text}");
    assert!(
        export.variables.is_empty(),
        "no new variable: {:?}",
        export.variables
    );
}

#[test]
fn a_short_value_from_the_environment_is_a_reference_only_in_the_file_that_named_it() {
    let mut setup = Setup::new();
    setup.force = true;
    let file = setup.dir.join("s.yaml");
    setup.occupied.insert(file.clone());
    setup.existing.push(Existing {
        key: Key::parse("s").unwrap(),
        file,
        name: Some("S".into()),
        from_env: Vec::new(),
        env: vec![secrets::Known {
            name: "DEBUG".into(),
            value: crate::provider::http::Secret::new("1"),
        }],
    });
    let mut own = agent("1", json!({"name": "S", "description": "1"}));
    own.key = Some(Key::parse("s").unwrap());
    let other = agent("2", json!({"name": "T", "description": "1"}));
    let export = setup.export(&[plain(own), plain(other)]).unwrap();
    assert!(
        export.agents[0].files[0]
            .text
            .contains("description: ${env:DEBUG}"),
        "{}",
        export.agents[0].files[0].text
    );
    assert!(
        export.agents[1].files[0]
            .text
            .contains("description: \"1\""),
        "{}",
        export.agents[1].files[0].text
    );
}

#[test]
fn the_schema_line_points_at_the_schema_from_the_files_directory() {
    assert_eq!(
        relative(
            Path::new("/r/agents/support"),
            Path::new("/r/schemas/agent.schema.json")
        ),
        PathBuf::from("../../schemas/agent.schema.json")
    );
    assert_eq!(
        relative(Path::new("/r"), Path::new("/r/a.json")),
        PathBuf::from("a.json")
    );
}

proptest! {
    #[test]
    fn escaping_is_undone_by_the_loader(text in "[$a{}:]{0,12}|\\PC{0,20}") {
        let none = |_: &str| None;
        let loaded = interpolate(&escape(&text), &none).expect("escaped text interpolates");
        prop_assert_eq!(loaded.text, text);
        prop_assert!(loaded.references.is_empty());
        prop_assert!(!loaded.sensitive);
    }
}

// ---- the round trip: platform documents -> files -> loader -> the same documents ----

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,16}",
        "[ -~\\n]{0,30}",
        prop::sample::select(vec![
            "yes",
            "null",
            "1.0",
            "${env:X}",
            "$${",
            "a: b\n",
            " x",
            "日本\n\n"
        ])
        .prop_map(str::to_string),
    ]
}

fn object(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop::collection::vec(("[A-Za-z_]{1,10}", inner), 0..4)
        .prop_map(|entries| Value::Object(entries.into_iter().collect()))
}

prop_compose! {
    fn workfx_agent()(
        name in text().prop_filter("platforms refuse an empty name", |n| !n.trim().is_empty()),
        description in proptest::option::of(text()),
        tags in proptest::option::of(prop::collection::vec("[a-z][a-z ]{0,6}[a-z]", 0..3)),
        favorite in proptest::option::of(any::<bool>()),
        mode in proptest::option::of(prop::sample::select(vec!["flow-chat", "flow-job"])),
        archived in any::<bool>(),
        graph in object(crate::text::yaml_emit::tests::any_json()),
        variables in object(text().prop_map(Value::String)),
        conversation in object(object(crate::text::yaml_emit::tests::any_json())),
        state in 0u8..4,
    ) -> Remote {
        let mut fields = json!({"name": name});
        if let Some(d) = description { fields["description"] = json!(d); }
        if let Some(t) = tags { fields["tags"] = json!(t); }
        if let Some(f) = favorite { fields["is_favorite"] = json!(f); }
        if let Some(m) = mode { fields["mode"] = json!(m); }
        let mut agent = agent("id-1", fields);
        if archived { agent.lifecycle = Lifecycle::Archived; }
        let flow = json!({"mode": "chat", "graph": graph, "flow_variables": variables, "conversation_variables": conversation});
        match state {
            0 => plain(agent),
            1 => with_flow(agent, flow, None),
            2 => with_flow(agent, flow.clone(), Some(flow)),
            _ => with_flow(agent, flow, Some(json!({"mode": "job", "graph": {}}))),
        }
    }
}

prop_compose! {
    fn workflows_agent()(
        name in text().prop_filter("platforms refuse an empty name", |n| !n.trim().is_empty()),
        folder in proptest::option::of(0i64..100),
        configuration in object(crate::text::yaml_emit::tests::any_json()),
        definition in object(crate::text::yaml_emit::tests::any_json()),
        published in any::<bool>(),
    ) -> Remote {
        let mut fields = json!({"name": name, "configuration": configuration});
        if let Some(f) = folder { fields["folder"] = json!(f); }
        let live = published.then(|| definition.clone());
        with_flow(agent("7", fields), definition, live)
    }
}

/// Exports `remote` into a fresh directory, then loads that directory as `plan` would, with the
/// listed variables set.
fn round_trip(
    kind: ProviderKind,
    remote: Remote,
    inline_lines: usize,
) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let mut setup = Setup::new();
    setup.dir = tmp.path().join("agents");
    setup.kind = kind;
    let mut request = setup.request();
    request.inline_lines = inline_lines;
    request.schema_file = None;
    let remote = [remote];
    let selection = select(&request, &remote).expect("selected");
    let export = build(&request, selection, &remote).expect("built");
    let outcome = write::write(&export, &setup.dir, kind.definition_schema()).expect("written");
    prop_assert!(
        outcome.complete(),
        "{:?}\n{}",
        outcome,
        export.agents[0].files[0].text
    );

    let env = |name: &str| {
        export
            .variables
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.expose().to_string())
    };
    let loaded = crate::spec::load(&crate::spec::LoadOptions {
        dir: &setup.dir,
        root: tmp.path(),
        display_root: tmp.path(),
        schema: kind.definition_schema(),
        env: &env,
    });
    prop_assert!(
        loaded.is_valid(),
        "{:?}",
        loaded
            .problems
            .iter()
            .map(|p| p.error.to_string())
            .collect::<Vec<_>>()
    );
    let definition = loaded.desired.values().next().expect("one definition");
    let expected = &export.agents[0].expected;
    prop_assert!(crate::model::diff::documents_equivalent(
        &definition.fields,
        &expected.fields
    ));
    prop_assert_eq!(definition.content.is_some(), expected.content.is_some());
    if let (Some(a), Some(b)) = (&definition.content, &expected.content) {
        prop_assert!(crate::model::diff::documents_equivalent(&a.document(), b));
    }
    prop_assert_eq!(definition.lifecycle, Some(expected.lifecycle));
    // Nothing but the definition (and its graph file) was left in the directory.
    let left: Vec<_> = std::fs::read_dir(&setup.dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    prop_assert!(left.len() <= 2, "{:?}", left);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_workfx_agent_loads_back_as_the_platform_holds_it(remote in workfx_agent(), small in any::<bool>()) {
        round_trip(ProviderKind::Workfx, remote, if small { 3 } else { INLINE_LINES })?;
    }

    #[test]
    fn an_agent_workflows_agent_loads_back_as_the_platform_holds_it(remote in workflows_agent(), small in any::<bool>()) {
        round_trip(ProviderKind::AgentWorkflows, remote, if small { 3 } else { INLINE_LINES })?;
    }
}
