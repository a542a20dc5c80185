//! The scenarios every platform must pass, written once over [`PlatformFixture`] and run per
//! platform (the modules at the end): the real binary against the platform's simulator over
//! loopback HTTP, with the requests counted by the simulator.
//!
//! A new platform implements [`PlatformFixture`] and adds one `scenarios!` line.

use serde_json::json;

use crate::fixture::{Managed, PlatformFixture, Repo};

/// The keys of `agents`.
fn keys(agents: &[Managed]) -> Vec<&str> {
    agents.iter().map(|agent| agent.key.as_str()).collect()
}

/// Two agents, `a` and `b`, on a fresh platform that holds them, counters zeroed.
async fn two_agents_applied<P: PlatformFixture>() -> (Repo, P) {
    let repo = P::repo(&[
        ("a", P::definition("a", "one")),
        ("b", P::definition("b", "one")),
    ]);
    let platform = P::applied(&repo).await;
    (repo, platform)
}

// ---- converging ----

async fn the_first_apply_makes_every_example_agent_live<P: PlatformFixture>() {
    let repo = P::examples();
    let platform = P::start().await;
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success()
        .expect_stdout_contains("Apply complete");
    let agents = platform.managed().await;
    assert_eq!(keys(&agents), P::EXAMPLE_KEYS, "{agents:#?}");
    for agent in &agents {
        assert!(!agent.archived, "{agent:?}");
        assert_eq!(agent.live_version, P::DRAFTS.then_some(1), "{agent:?}");
    }
    let examples = P::EXAMPLE_KEYS.len() as u64;
    let requests = platform.requests();
    assert_eq!(
        P::creates(&requests),
        examples + P::BOOKKEEPING_CREATES,
        "{requests:?}"
    );
    let published = if P::DRAFTS { examples } else { 0 };
    assert_eq!(P::publishes(&requests), published, "{requests:?}");
}

async fn a_second_apply_writes_nothing<P: PlatformFixture>() {
    let repo = P::examples();
    let platform = P::applied(&repo).await;
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success()
        .expect_stdout_contains("No changes.");
    assert_eq!(platform.requests().writes, 0);
}

async fn a_fresh_checkout_plans_no_changes<P: PlatformFixture>() {
    let platform = P::applied(&P::examples()).await;
    let fresh = P::examples();
    platform
        .run(&fresh, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
    assert_eq!(platform.requests().writes, 0);
}

// ---- drift and change ----

async fn a_change_made_on_the_platform_is_planned_and_repaired_without_a_publish<
    P: PlatformFixture,
>() {
    let (repo, platform) = two_agents_applied::<P>().await;
    platform.edit_content_by_hand("a").await;
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_code(2)
        .expect_stdout_contains(&format!("a  ({})", P::REPAIR_ACTION));
    platform.reset();
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    let requests = platform.requests();
    assert_eq!(P::content_writes(&requests), 1, "{requests:?}");
    assert_eq!(P::publishes(&requests), 0, "{requests:?}");
    assert_eq!(requests.writes, 1, "{requests:?}");
    assert_eq!(
        platform.managed_agent("a").await.live_version,
        P::DRAFTS.then_some(1)
    );
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
}

async fn a_changed_definition_goes_live_exactly_once<P: PlatformFixture>() {
    let (repo, platform) = two_agents_applied::<P>().await;
    repo.write("agents/a.yaml", &P::definition("a", "two"));
    platform
        .run(&repo, &["plan"])
        .await
        .expect_success()
        .expect_stdout_contains(&format!("~ {}: \"one\" -> \"two\"", P::CONTENT_FIELD));
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    let requests = platform.requests();
    assert_eq!(P::content_writes(&requests), 1, "{requests:?}");
    assert_eq!(
        P::publishes(&requests),
        u64::from(P::DRAFTS),
        "{requests:?}"
    );
    assert_eq!(
        platform.managed_agent("a").await.live_version,
        P::DRAFTS.then_some(2)
    );
    assert_eq!(
        platform.managed_agent("b").await.live_version,
        P::DRAFTS.then_some(1)
    );
    platform.reset();
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert_eq!(platform.requests().writes, 0);
}

// ---- archive, prune, protect ----

async fn status_archived_archives_and_active_restores<P: PlatformFixture>() {
    let (repo, platform) = two_agents_applied::<P>().await;
    let definition = P::definition("a", "one");
    repo.write(
        "agents/a.yaml",
        &(definition.clone() + "status: archived\n"),
    );
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert!(platform.managed_agent("a").await.archived);
    assert_eq!(platform.requests().writes, 1, "one write archives");
    platform.reset();
    repo.write("agents/a.yaml", &(definition + "status: active\n"));
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert!(!platform.managed_agent("a").await.archived);
    assert_eq!(platform.requests().writes, 1, "one write restores");
    assert!(!platform.managed_agent("b").await.archived);
}

async fn an_agent_archived_on_purpose_stays_archived_when_the_definition_stops_managing_status<
    P: PlatformFixture,
>() {
    let repo = P::repo(&[("a", P::definition("a", "one") + "status: archived\n")]);
    repo.write("agentsync.yaml", &format!("{}prune: archive\n", P::CONFIG));
    let platform = P::applied(&repo).await;
    assert!(platform.managed_agent("a").await.archived);
    repo.write("agents/a.yaml", &P::definition("a", "one"));
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
}

/// `a` and `b` applied, then `b`'s file removed and the configuration set to `prune`; the
/// apply that follows.
pub(crate) async fn after_removal<P: PlatformFixture>(
    prune: &str,
) -> (Repo, P, crate::fixture::Run) {
    let (repo, platform) = two_agents_applied::<P>().await;
    repo.remove("agents/b.yaml");
    repo.write("agentsync.yaml", &format!("{}prune: {prune}\n", P::CONFIG));
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    (repo, platform, run)
}

async fn with_prune_off_a_removed_definition_is_listed_and_left_alone<P: PlatformFixture>() {
    let (_repo, platform, run) = after_removal::<P>("false").await;
    run.expect_success()
        .expect_stdout_contains("b (")
        .expect_stdout_contains("not in the repository");
    assert_eq!(platform.requests().writes, 0);
    assert!(!platform.managed_agent("b").await.archived);
}

async fn with_prune_archive_a_removed_definition_is_archived<P: PlatformFixture>() {
    let (_repo, platform, run) = after_removal::<P>("archive").await;
    run.expect_success();
    let pruned = platform.managed_agent("b").await;
    assert!(pruned.archived, "{pruned:?}");
    assert_eq!(pruned.marker["pruned"], true, "{pruned:?}");
    assert!(!platform.managed_agent("a").await.archived);
}

async fn an_agent_archived_by_prune_is_restored_when_its_definition_comes_back<
    P: PlatformFixture,
>() {
    let (repo, platform, run) = after_removal::<P>("archive").await;
    run.expect_success();
    assert!(platform.managed_agent("b").await.archived);

    repo.write("agents/b.yaml", &P::definition("b", "one"));
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_code(2)
        .expect_stdout_contains("archived by prune; its definition is back");
    let status = platform
        .run(&repo, &["status", "--output", "json"])
        .await
        .json();
    let b = status["targets"][0]["agents"]
        .as_array()
        .and_then(|agents| agents.iter().find(|a| a["key"] == "b"))
        .cloned();
    assert_eq!(
        b.map(|b| (b["sync"].clone(), b["actions"].clone())),
        Some((json!("differs"), json!(["restore"]))),
        "{status}"
    );
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    let restored = platform.managed_agent("b").await;
    assert!(!restored.archived, "{restored:?}");
    assert_eq!(
        restored.marker,
        json!({"key": "b"}),
        "the restore clears `pruned`"
    );
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
}

async fn a_protected_agent_is_never_archived<P: PlatformFixture>() {
    let (repo, platform) = two_agents_applied::<P>().await;
    repo.write(
        "agents/a.yaml",
        &(P::definition("a", "one") + "status: archived\nprotect: true\n"),
    );
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    let agent = platform.managed_agent("a").await;
    assert!(!agent.archived, "{agent:?}");
    assert_eq!(agent.marker["protect"], true, "{agent:?}");
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
}

async fn a_protected_agent_is_never_pruned_even_after_its_file_is_gone<P: PlatformFixture>() {
    for prune in P::PRUNES {
        let repo = P::repo(&[
            ("keep", P::definition("keep", "one") + "protect: true\n"),
            ("other", P::definition("other", "one")),
        ]);
        let platform = P::applied(&repo).await;
        assert_eq!(platform.managed_agent("keep").await.marker["protect"], true);
        repo.remove("agents/keep.yaml");
        repo.write("agentsync.yaml", &format!("{}prune: {prune}\n", P::CONFIG));
        platform
            .run(&repo, &["apply", "--yes"])
            .await
            .expect_success()
            .expect_stdout_contains("protected");
        assert_eq!(platform.requests().writes, 0, "prune: {prune}");
        let agents = platform.managed().await;
        assert_eq!(keys(&agents), ["keep", "other"], "prune: {prune}");
        assert!(
            agents.iter().all(|a| !a.archived),
            "prune: {prune}: {agents:#?}"
        );
    }
}

async fn turning_protect_off_rewrites_the_marker<P: PlatformFixture>() {
    let repo = P::repo(&[("a", P::definition("a", "one") + "protect: true\n")]);
    let platform = P::applied(&repo).await;
    repo.write("agents/a.yaml", &P::definition("a", "one"));
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success()
        .expect_stdout_contains("a update: done");
    let marker = platform.managed_agent("a").await.marker;
    assert!(marker.get("protect").is_none(), "{marker}");
}

/// The scenarios, as tests of the platform `$fixture` in module `$platform`: every one, or
/// (`without archive`) all but those of archiving, for a platform that cannot archive.
macro_rules! scenarios {
    ($platform:ident: $fixture:ty) => {
        mod $platform {
            scenarios!(@core $fixture);
            scenarios!(@tests $fixture:
                status_archived_archives_and_active_restores,
                an_agent_archived_on_purpose_stays_archived_when_the_definition_stops_managing_status,
                with_prune_archive_a_removed_definition_is_archived,
                an_agent_archived_by_prune_is_restored_when_its_definition_comes_back,
                a_protected_agent_is_never_archived,
            );
        }
    };
    ($platform:ident: $fixture:ty, without archive) => {
        mod $platform {
            scenarios!(@core $fixture);
        }
    };
    (@core $fixture:ty) => {
        scenarios!(@tests $fixture:
            the_first_apply_makes_every_example_agent_live,
            a_second_apply_writes_nothing,
            a_fresh_checkout_plans_no_changes,
            a_change_made_on_the_platform_is_planned_and_repaired_without_a_publish,
            a_changed_definition_goes_live_exactly_once,
            with_prune_off_a_removed_definition_is_listed_and_left_alone,
            a_protected_agent_is_never_pruned_even_after_its_file_is_gone,
            turning_protect_off_rewrites_the_marker,
        );
    };
    (@tests $fixture:ty: $($scenario:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario::<$fixture>().await;
            }
        )*
    };
}

scenarios!(workfx: crate::fixture::workfx::Workfx);
scenarios!(agent_workflows: crate::fixture::agent_workflows::AgentWorkflows);
scenarios!(agents_v1: crate::fixture::agents_v1::AgentsV1, without archive);
