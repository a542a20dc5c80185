//! A platform as a command-line value: the choices of `sim --platform` and
//! `schema --provider`, taken from the one list of platforms, with each one's help line.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::provider::ProviderKind;

impl ValueEnum for ProviderKind {
    fn value_variants<'a>() -> &'a [Self] {
        ProviderKind::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()).help(self.about()))
    }
}
