//! The shape of a definition, declared as data: each provider describes its own fields with
//! these types, and the loader checks any file against any such description.

/// What a field may hold.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    String,
    Bool,
    Integer,
    /// An integer or a decimal number.
    Number,
    /// A string from a fixed list.
    OneOf(&'static [&'static str]),
    /// A list of non-empty strings without commas (platforms may join them with commas).
    Tags,
    /// Any mapping.
    Mapping,
    /// A mapping that may not hold these keys (where agentsync keeps its marker).
    MappingReserving(&'static [&'static str]),
    /// A mapping whose values are mappings.
    MappingOfMappings,
    /// Any value.
    Any,
    /// A mapping with fields of its own.
    Nested(&'static [Field]),
    /// A path to a JSON or YAML file, relative to the definition, whose content becomes the
    /// field named `into` (which may then not be written inline).
    Include {
        into: &'static str,
    },
}

/// One field a definition may have.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Shown in the JSON Schema and in `--help`-like listings.
    pub doc: &'static str,
    /// Set when the agent is created, never changed after: the platform has no way to.
    pub fixed: bool,
}

impl Field {
    pub const fn optional(name: &'static str, kind: Kind, doc: &'static str) -> Field {
        Field {
            name,
            kind,
            required: false,
            doc,
            fixed: false,
        }
    }

    pub const fn required(name: &'static str, kind: Kind, doc: &'static str) -> Field {
        Field {
            name,
            kind,
            required: true,
            doc,
            fixed: false,
        }
    }

    /// Marks the field as set at creation only.
    pub const fn fixed(self) -> Field {
        Field {
            fixed: true,
            ..self
        }
    }
}

/// Fields a definition must have when one of its fields has a given value: Agents v1's
/// architectures each need fields of their own (`pipeline` needs `stt` and `tts`, ...).
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// The top-level field whose value decides.
    pub field: &'static str,
    pub value: &'static str,
    /// The top-level fields that value needs.
    pub needs: &'static [&'static str],
}

/// A provider's definition format: its agent fields, and which of them is the versioned
/// content (the part with a draft and published versions), if the platform has one.
#[derive(Debug, Clone, Copy)]
pub struct DefinitionSchema {
    pub fields: &'static [Field],
    pub content_field: Option<&'static str>,
    /// The field that names an agent for people: an unmanaged agent with the same value is the
    /// one `--adopt` takes over.
    pub name_field: Option<&'static str>,
    /// Fields needed by the value of another (checked offline, like required fields).
    pub requirements: &'static [Requirement],
}

impl DefinitionSchema {
    /// The top-level field named `name`, if the format has one.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The fields an include may stand for whose value is taken whole (a graph, a workflow
    /// definition), each as its keys from the root: the bulk of a definition, which the loader
    /// writes out as JSON text without looking inside.
    pub fn bulk_fields(&self) -> Vec<Vec<&'static str>> {
        fn walk(fields: &[Field], path: &[&'static str], found: &mut Vec<Vec<&'static str>>) {
            for field in fields {
                let Kind::Include { into } = field.kind else {
                    if let Kind::Nested(inner) = field.kind {
                        walk(inner, &[path, &[field.name]].concat(), found);
                    }
                    continue;
                };
                let whole = fields
                    .iter()
                    .any(|f| f.name == into && matches!(f.kind, Kind::Mapping | Kind::Any));
                if whole {
                    found.push([path, &[into]].concat());
                }
            }
        }
        let mut found = Vec::new();
        walk(self.fields, &[], &mut found);
        found
    }
}

/// The fields every definition has, whatever the platform: agentsync's own.
pub const COMMON_FIELDS: &[Field] = &[
    Field::required("kind", Kind::OneOf(&["agent"]), "always 'agent'"),
    Field::required(
        "key",
        Kind::String,
        "identity across renames: [a-z0-9][a-z0-9-]*, unique in the repository",
    ),
    Field::optional(
        "status",
        Kind::OneOf(&["active", "archived"]),
        "archived archives the agent; back to active restores it",
    ),
    Field::optional(
        "publish",
        Kind::Bool,
        "publish drafts that differ from the live version (overrides the configuration)",
    ),
    Field::optional(
        "protect",
        Kind::Bool,
        "true: never archived or deleted by agentsync",
    ),
    Field::optional(
        "previous_names",
        Kind::Tags,
        "names the agent had before a rename: an agent agentsync does not manage under one of them is this definition's for --adopt",
    ),
];

#[cfg(test)]
mod tests {
    use crate::provider::ProviderKind;

    #[test]
    fn each_platform_s_bulk_field_is_the_one_its_include_stands_for() {
        let bulk = |kind: ProviderKind| kind.definition_schema().bulk_fields();
        assert_eq!(bulk(ProviderKind::Workfx), vec![vec!["flow", "graph"]]);
        assert_eq!(bulk(ProviderKind::AgentWorkflows), vec![vec!["definition"]]);
    }
}
