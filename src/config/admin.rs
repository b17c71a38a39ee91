//! The operator console's keys: `ADMIN_ENABLED` and `ADMIN_GROUP_IDS`.

use super::{ConfigError, Getter, Mode};
use crate::graph::signin::AdminGroups;

/// The operator console's settings, present only when `ADMIN_ENABLED` is on.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// `ADMIN_GROUP_IDS`: whose members may sign in.
    pub groups: AdminGroups,
}

impl Getter<'_> {
    /// `ADMIN_ENABLED` and `ADMIN_GROUP_IDS`. The ids are checked even while the console is
    /// off, so turning it on later cannot fail start-up over a typo made today. Operators
    /// sign in with Microsoft, so the console needs the Graph connection; only DEBUG mode
    /// has a stand-in sign-in without it.
    pub(super) fn admin(&self, mode: Mode) -> Result<Option<AdminSettings>, ConfigError> {
        let enabled = self.bool("ADMIN_ENABLED")?;
        let ids = self.list("ADMIN_GROUP_IDS")?;
        let invalid = |err: crate::graph::signin::AdminGroupsError| {
            self.invalid("ADMIN_GROUP_IDS", err.to_string())
        };
        if !enabled {
            if ids.iter().any(|id| !id.trim().is_empty()) {
                AdminGroups::parse(&ids).map_err(invalid)?;
            }
            return Ok(None);
        }
        if mode != Mode::Debug && self.bool("DEBUG_DONT_CONNECT_TO_API")? {
            return Err(self.invalid(
                "ADMIN_ENABLED",
                "the console needs Microsoft Graph (operators sign in with Microsoft through the app registration), but DEBUG_DONT_CONNECT_TO_API is set: set it to false and the GRAPH_API_* keys, or ADMIN_ENABLED = false. Only DEBUG mode has a stand-in sign-in".into(),
            ));
        }
        let groups = AdminGroups::parse(&ids).map_err(invalid)?;
        Ok(Some(AdminSettings { groups }))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load;

    const GROUP: &str = "7f3c0a52-9f0e-4a8e-b1c2-0d1e2f3a4b5c";

    #[test]
    fn the_console_is_off_unless_enabled() {
        let dir = tempfile::tempdir().unwrap();
        let (settings, _) = load(dir.path(), &[("MODE", "debug")]).unwrap();
        assert!(settings.admin.is_none());
        let (settings, _) =
            load(dir.path(), &[("MODE", "debug"), ("ADMIN_GROUP_IDS", GROUP)]).unwrap();
        assert!(settings.admin.is_none(), "groups alone turn nothing on");
    }

    #[test]
    fn an_enabled_console_takes_its_groups_from_a_list_or_commas() {
        let dir = tempfile::tempdir().unwrap();
        let upper = GROUP.to_uppercase();
        for ids in [format!("{GROUP}, {upper}"), format!("[\"{GROUP}\"]")] {
            let env = [
                ("MODE", "debug"),
                ("ADMIN_ENABLED", "true"),
                ("ADMIN_GROUP_IDS", ids.as_str()),
            ];
            let (settings, _) = load(dir.path(), &env).unwrap();
            assert_eq!(settings.admin.unwrap().groups.ids(), [GROUP], "{ids}");
        }
    }

    #[test]
    fn an_enabled_console_without_graph_stops_start_up_outside_debug() {
        let dir = tempfile::tempdir().unwrap();
        let enabled = [
            ("ADMIN_ENABLED", "true"),
            ("ADMIN_GROUP_IDS", GROUP),
            ("DEBUG_DONT_CONNECT_TO_API", "true"),
        ];
        let mut test = vec![("MODE", "test")];
        test.extend(enabled);
        let err = load(dir.path(), &test).unwrap_err().to_string();
        assert!(
            err.starts_with("ADMIN_ENABLED from") && err.contains("DEBUG_DONT_CONNECT_TO_API"),
            "{err}"
        );
        let mut debug = vec![("MODE", "debug")];
        debug.extend(enabled);
        let (settings, _) = load(dir.path(), &debug).unwrap();
        assert!(settings.admin.is_some(), "DEBUG signs in without Graph");
    }

    #[test]
    fn an_enabled_console_without_groups_or_with_a_name_stops_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (vec![("ADMIN_ENABLED", "true")], "ADMIN_GROUP_IDS is empty"),
            (
                vec![("ADMIN_ENABLED", "true"), ("ADMIN_GROUP_IDS", "Operators")],
                "`Operators` is not a group object id",
            ),
            (
                vec![("ADMIN_GROUP_IDS", "Operators")],
                "`Operators` is not a group object id",
            ),
        ];
        for (extra, expected) in cases {
            let mut env = vec![("MODE", "debug")];
            env.extend(extra);
            let err = load(dir.path(), &env).unwrap_err().to_string();
            assert!(
                err.starts_with("ADMIN_GROUP_IDS from") && err.contains(expected),
                "{err}"
            );
        }
    }
}
