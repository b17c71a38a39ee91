//! `VOUCHERS`, and the two keys of the original's unfinished voucher branch it replaces:
//! `USE_VOUCHERS` and `REQUIRE_VOUCHERS`, read as aliases with a warning, so a
//! configuration written for that branch starts with the vouchers it asked for.

use super::load::{Layers, Source, Value};
use super::{ConfigError, Getter};
use crate::domain::VoucherMode;

/// The original's keys and the `VOUCHERS` value each stands for when `true`, strongest last.
const ALIASES: [(&str, &str); 2] = [
    ("USE_VOUCHERS", "optional"),
    ("REQUIRE_VOUCHERS", "required"),
];

impl Layers {
    /// Reads `USE_VOUCHERS` / `REQUIRE_VOUCHERS` as `VOUCHERS` unless that is set itself,
    /// warning either way: the keys still work, but not for long.
    pub(super) fn apply_voucher_aliases(&mut self) {
        let explicit = !matches!(
            self.values.get("VOUCHERS"),
            Some((_, Source::Default)) | None
        );
        for (alias, mode) in ALIASES {
            let Some((Value::Bool(on), source)) = self.values.get(alias).cloned() else {
                continue;
            };
            if explicit {
                self.warnings.push(format!(
                    "{alias} (from {source}) is the original voucher branch's key and is ignored: VOUCHERS is set"
                ));
                continue;
            }
            if !on {
                self.warnings.push(format!(
                    "{alias} = false (from {source}) is the original voucher branch's key and asks for nothing: remove it; VOUCHERS is the key now"
                ));
                continue;
            }
            self.warnings.push(format!(
                "{alias} (from {source}) is the original voucher branch's key: read as VOUCHERS = \"{mode}\"; write that instead"
            ));
            // Later in `ALIASES` is stronger: `REQUIRE_VOUCHERS` wins over `USE_VOUCHERS`.
            self.values
                .insert("VOUCHERS", (Value::Str(mode.into()), source));
        }
    }
}

impl Getter<'_> {
    /// `VOUCHERS`.
    pub(super) fn vouchers(&self) -> Result<VoucherMode, ConfigError> {
        self.parsed("VOUCHERS", VoucherMode::parse)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load;
    use crate::domain::VoucherMode;

    fn loaded(env: &[(&str, &str)]) -> (VoucherMode, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let mut all = vec![("MODE", "debug")];
        all.extend(env);
        let (settings, warnings) = load(dir.path(), &all).unwrap();
        (settings.vouchers, warnings)
    }

    #[test]
    fn vouchers_are_off_unless_asked_for() {
        assert_eq!(loaded(&[]), (VoucherMode::Off, vec![]));
        assert_eq!(loaded(&[("VOUCHERS", "Required")]).0, VoucherMode::Required);
        assert_eq!(loaded(&[("VOUCHERS", "optional")]).0, VoucherMode::Optional);
    }

    #[test]
    fn a_value_that_is_no_mode_stops_start_up_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path(), &[("MODE", "debug"), ("VOUCHERS", "yes")]).unwrap_err();
        let err = err.to_string();
        assert!(
            err.starts_with("VOUCHERS from") && err.contains("off, optional, required"),
            "{err}"
        );
    }

    #[test]
    fn the_original_branchs_keys_are_read_as_vouchers_with_a_warning() {
        let cases = [
            (vec![("USE_VOUCHERS", "true")], VoucherMode::Optional),
            (vec![("REQUIRE_VOUCHERS", "true")], VoucherMode::Required),
            (
                vec![("USE_VOUCHERS", "true"), ("REQUIRE_VOUCHERS", "true")],
                VoucherMode::Required,
            ),
            (
                vec![("USE_VOUCHERS", "true"), ("REQUIRE_VOUCHERS", "false")],
                VoucherMode::Optional,
            ),
            (vec![("USE_VOUCHERS", "false")], VoucherMode::Off),
        ];
        for (env, expected) in cases {
            let (mode, warnings) = loaded(&env);
            assert_eq!(mode, expected, "{env:?}");
            assert_eq!(warnings.len(), env.len(), "{warnings:?}");
            assert!(
                warnings
                    .iter()
                    .all(|w| w.contains("original voucher branch") && w.contains("VOUCHERS")),
                "{warnings:?}"
            );
        }
    }

    #[test]
    fn vouchers_set_itself_wins_over_the_original_branchs_keys() {
        let (mode, warnings) = loaded(&[("VOUCHERS", "off"), ("REQUIRE_VOUCHERS", "true")]);
        assert_eq!(mode, VoucherMode::Off);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("is ignored: VOUCHERS is set"),
            "{warnings:?}"
        );
    }
}
