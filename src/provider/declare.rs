//! The macro that makes [`ProviderKind`](super::ProviderKind) and
//! [`AnyProvider`](super::AnyProvider) from the one list of platforms in `provider/mod.rs`.
//!
//! The [`Provider`](super::Provider) trait returns `impl Future` (no boxing per request), so it
//! cannot be a trait object; `AnyProvider` is an enum that dispatches instead, and the engine
//! stays generic over `P: Provider`. Everything else a platform is (its name, definition
//! format, capabilities, how it connects, its simulator) comes from its
//! [`Platform`](super::Platform) implementation, read here through the list.

/// `platforms! { Variant => path::To::Provider, ... }`: one line per platform.
macro_rules! platforms {
    ($($variant:ident => $provider:ty),+ $(,)?) => {
        /// The platforms a configuration can name in `provider:`, made from the one list.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProviderKind {
            $($variant,)+
        }

        impl ProviderKind {
            /// Every platform, in the list's order.
            pub const ALL: &[ProviderKind] = &[$(ProviderKind::$variant,)+];

            /// The name a configuration gives in `provider:` (and `sim --platform` takes).
            pub fn name(self) -> &'static str {
                match self {
                    $(ProviderKind::$variant => <$provider as $crate::provider::Platform>::NAME,)+
                }
            }

            /// The platform a configuration names, if it names one.
            pub fn from_name(name: &str) -> Option<ProviderKind> {
                Self::ALL.iter().copied().find(|kind| kind.name() == name)
            }

            /// One line saying what the platform is, for help texts.
            pub fn about(self) -> &'static str {
                match self {
                    $(ProviderKind::$variant => <$provider as $crate::provider::Platform>::ABOUT,)+
                }
            }

            /// The fields a definition for this platform may have.
            pub fn definition_schema(self) -> &'static $crate::spec::schema::DefinitionSchema {
                match self {
                    $(ProviderKind::$variant => <$provider as $crate::provider::Platform>::SCHEMA,)+
                }
            }

            /// What the platform can do. Known without a connection, so that the configuration
            /// can refuse what a platform cannot do (`prune: delete` where nothing can be
            /// deleted).
            pub fn capabilities(self) -> $crate::provider::Capabilities {
                match self {
                    $(ProviderKind::$variant => {
                        <$provider as $crate::provider::Platform>::CAPABILITIES
                    })+
                }
            }

            /// The simulator that plays this platform (`endpoint: embedded`, `agentsync sim`).
            pub fn simulator(self) -> $crate::sim::Platform {
                match self {
                    $(ProviderKind::$variant => {
                        <$provider as $crate::provider::Platform>::SIMULATOR
                    })+
                }
            }
        }

        /// The provider of a configured target: one of the platforms, chosen at run time.
        #[derive(Debug, Clone)]
        pub enum AnyProvider {
            $($variant($provider),)+
        }

        impl AnyProvider {
            /// A client of `kind`'s platform for one account.
            pub fn connect(
                kind: ProviderKind,
                account: $crate::provider::Account,
            ) -> ::std::result::Result<AnyProvider, $crate::provider::http::SetupError> {
                match kind {
                    $(ProviderKind::$variant => {
                        <$provider as $crate::provider::Platform>::connect(account)
                            .map(AnyProvider::$variant)
                    })+
                }
            }

            /// The HTTP counters (answers by status, retries), for metrics.
            pub fn http_stats(&self) -> $crate::provider::http::HttpStats {
                match self {
                    $(AnyProvider::$variant(p) => p.http_stats(),)+
                }
            }
        }

        impl $crate::provider::Provider for AnyProvider {
            fn kind(&self) -> ProviderKind {
                match self {
                    $(AnyProvider::$variant(p) => p.kind(),)+
                }
            }

            async fn list_agents(&self) -> Result<Vec<RemoteAgent>> {
                match self {
                    $(AnyProvider::$variant(p) => p.list_agents().await,)+
                }
            }

            async fn find_agents(&self, key: &Key, name: Option<&str>) -> Result<Vec<RemoteAgent>> {
                match self {
                    $(AnyProvider::$variant(p) => p.find_agents(key, name).await,)+
                }
            }

            async fn read_content(&self, id: &str) -> Result<RemoteContent> {
                match self {
                    $(AnyProvider::$variant(p) => p.read_content(id).await,)+
                }
            }

            async fn create_agent(&self, marker: &Marker, fields: &Document) -> Result<RemoteAgent> {
                match self {
                    $(AnyProvider::$variant(p) => p.create_agent(marker, fields).await,)+
                }
            }

            async fn update_agent(&self, id: &str, marker: &Marker, fields: &Document) -> Result<()> {
                match self {
                    $(AnyProvider::$variant(p) => p.update_agent(id, marker, fields).await,)+
                }
            }

            async fn claim_agent(&self, id: &str, marker: &Marker) -> Result<()> {
                match self {
                    $(AnyProvider::$variant(p) => p.claim_agent(id, marker).await,)+
                }
            }

            async fn set_lifecycle(&self, id: &str, lifecycle: Lifecycle) -> Result<()> {
                match self {
                    $(AnyProvider::$variant(p) => p.set_lifecycle(id, lifecycle).await,)+
                }
            }

            async fn set_lifecycle_and_marker(
                &self,
                id: &str,
                lifecycle: Lifecycle,
                marker: &Marker,
            ) -> Result<()> {
                match self {
                    $(AnyProvider::$variant(p) => {
                        p.set_lifecycle_and_marker(id, lifecycle, marker).await
                    })+
                }
            }

            async fn write_draft(&self, id: &str, content: &Content) -> Result<()> {
                match self {
                    $(AnyProvider::$variant(p) => p.write_draft(id, content).await,)+
                }
            }

            async fn publish(&self, id: &str) -> Result<String> {
                match self {
                    $(AnyProvider::$variant(p) => p.publish(id).await,)+
                }
            }

            async fn delete_agent(&self, id: &str) -> Result<()> {
                match self {
                    $(AnyProvider::$variant(p) => p.delete_agent(id).await,)+
                }
            }
        }
    };
}

pub(crate) use platforms;
