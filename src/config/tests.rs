use std::collections::HashMap;
use std::path::Path;

use secrecy::ExposeSecret;

use super::*;

/// Loads with a fake environment and files in `dir`: `etc.conf`, `instance.conf`.
pub(super) fn load(
    dir: &Path,
    env: &[(&str, &str)],
) -> Result<(Settings, Vec<String>), ConfigError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let locations = Locations {
        system_file: dir.join("etc.conf"),
        instance_file: dir.join("instance.conf"),
    };
    let layers = Layers::load(&|name| env.get(name).cloned(), &locations)?;
    let warnings = layers.warnings.clone();
    Ok((Settings::from_layers(&layers)?, warnings))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const PROD: &[(&str, &str)] = &[
    ("JWT_SECRET_KEY", "s3cret-of-at-least-thirty-two-bytes"),
    ("MAILBOX_TAG_SECRET", TAG_SECRET),
    ("PUBLIC_URL", "https://signup.uni.example"),
];

const TAG_SECRET: &str = "tag-s3cret-of-at-least-thirty-two-bytes";

#[test]
fn production_defaults_match_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let (settings, warnings) = load(dir.path(), PROD).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(settings.mode, Mode::Production);
    assert_eq!(settings.bind, "127.0.0.1:8080");
    assert_eq!(settings.generated_password_bytes, 8);
    assert_eq!(settings.password_delivery, PasswordDelivery::Mail);
    assert_eq!(
        settings.graph.license_skus,
        vec!["314c4481-f395-4525-be8b-2ec4bb1e9d91"]
    );
    assert_eq!(settings.graph.usage_location, "DE");
    assert_eq!(
        settings.graph.api_url.as_str(),
        "https://graph.microsoft.com/"
    );
    assert_eq!(settings.mail.port, 25);
    assert!(!settings.mail.ssl && settings.mail.starttls && settings.mail.login);
    assert!(!settings.debug_dont_connect_to_api && !settings.debug_dont_send_mail);
    assert_eq!(settings.verification_token_ttl.as_secs(), 1440 * 60);
    assert_eq!(settings.default_language, "en");
    assert_eq!(settings.sign_in_url.as_str(), "https://www.office.com/");
    assert_eq!(settings.reverse_proxy_count, 0);
    assert_eq!(
        settings.email_subaddress_separator,
        crate::domain::SubaddressSeparator::PLUS
    );
}

#[test]
fn the_subaddress_separator_is_one_symbol_or_empty_for_off() {
    use crate::domain::SubaddressSeparator;
    let dir = tempfile::tempdir().unwrap();
    let separator = |value: &str| {
        let mut env = PROD.to_vec();
        env.push(("EMAIL_SUBADDRESS_SEPARATOR", value));
        load(dir.path(), &env).map(|(settings, _)| settings.email_subaddress_separator)
    };
    assert_eq!(separator("").unwrap(), SubaddressSeparator::OFF);
    assert_eq!(separator("-").unwrap().as_char(), Some('-'));
    write(
        dir.path(),
        "instance.conf",
        "EMAIL_SUBADDRESS_SEPARATOR = \"\"\n",
    );
    let (settings, warnings) = load(dir.path(), PROD).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        settings.email_subaddress_separator,
        SubaddressSeparator::OFF
    );
    for (value, expected) in [
        ("+-", "more than one character"),
        (".", "cannot start a tag"),
    ] {
        let err = separator(value).unwrap_err().to_string();
        assert!(
            err.contains("EMAIL_SUBADDRESS_SEPARATOR") && err.contains(expected),
            "{value}: {err}"
        );
    }
}

#[test]
fn debug_mode_needs_nothing_and_simulates_everything() {
    let dir = tempfile::tempdir().unwrap();
    for mode in ["debug", "DEBUG", "Debug"] {
        let (settings, _) = load(dir.path(), &[("MODE", mode)]).unwrap();
        assert_eq!(settings.mode, Mode::Debug);
        assert_eq!(settings.jwt_secret_key.expose_secret(), "debug");
        assert!(settings.debug_dont_connect_to_api && settings.debug_dont_send_mail);
        assert!(
            settings.public_url.is_none(),
            "taken from the bound address"
        );
    }
}

#[test]
fn an_unknown_mode_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(dir.path(), &[("MODE", "staging")]).unwrap_err();
    assert!(matches!(err, ConfigError::Mode(_)), "{err}");
    assert!(err.to_string().contains("PRODUCTION, DEBUG or TEST"));
}

#[test]
fn later_layers_win_in_the_documented_order() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "etc.conf",
        "SUPPORT_EMAIL = \"etc@x.example\"\nBIND = \"0.0.0.0:1\"\nGRAPH_API_USAGE_LOCATION = \"AT\"\nMAIL_SERVER_PORT = 1\n",
    );
    write(
        dir.path(),
        "instance.conf",
        "SUPPORT_EMAIL = \"instance@x.example\"\nBIND = \"0.0.0.0:2\"\nMAIL_SERVER_PORT = 2\n",
    );
    let config_file = write(
        dir.path(),
        "custom.conf",
        "SUPPORT_EMAIL = \"custom@x.example\"\nMAIL_SERVER_PORT = 3\n",
    );
    let secret_file = write(dir.path(), "jwt.secret", "from-file\n");
    let mut env = vec![
        ("MODE", "debug"),
        ("CONFIG_FILE", config_file.as_str()),
        ("MAIL_SERVER_PORT", "4"),
        ("JWT_SECRET_KEY", "from-env"),
    ];
    let (settings, _) = load(dir.path(), &env).unwrap();
    assert_eq!(
        settings.graph.usage_location, "AT",
        "/etc survives where nothing later sets it"
    );
    assert_eq!(settings.bind, "0.0.0.0:2", "instance/ beats /etc");
    assert_eq!(
        settings.support_email, "custom@x.example",
        "CONFIG_FILE beats instance/"
    );
    assert_eq!(settings.mail.port, 4, "the environment beats every file");
    assert_eq!(
        settings.jwt_secret_key.expose_secret(),
        "from-env",
        "the environment beats the mode default"
    );
    env.push(("JWT_SECRET_KEY_FILE", secret_file.as_str()));
    let (settings, _) = load(dir.path(), &env).unwrap();
    assert_eq!(
        settings.jwt_secret_key.expose_secret(),
        "from-file",
        "*_FILE comes last; its newline is dropped"
    );
}

#[test]
fn files_override_mode_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "instance.conf",
        "DEBUG_DONT_SEND_MAIL = false\n",
    );
    let (settings, _) = load(dir.path(), &[("MODE", "debug")]).unwrap();
    assert!(!settings.debug_dont_send_mail);
    assert!(settings.debug_dont_connect_to_api);
}

#[test]
fn environment_values_are_typed_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("MODE", "debug"),
        ("DEBUG_DONT_SEND_MAIL", "False"),
        ("MAIL_SERVER_SSL", "1"),
        ("GRAPH_API_GROUPS_FOR_NEW_USERS", "g1, g2 ,,g3"),
        ("GRAPH_API_LICENSE_SKUS", "[\"s1\", \"s2\"]"),
        ("GRAPH_API_AUTH_CLIENT_ID", "12345"),
        ("REVERSE_PROXY_COUNT", " 2 "),
    ];
    let (settings, _) = load(dir.path(), &env).unwrap();
    assert!(!settings.debug_dont_send_mail);
    assert!(settings.mail.ssl);
    assert_eq!(settings.graph.groups_for_new_users, vec!["g1", "g2", "g3"]);
    assert_eq!(settings.graph.license_skus, vec!["s1", "s2"]);
    assert_eq!(
        settings.graph.client_id, "12345",
        "a numeric string stays a string"
    );
    assert_eq!(settings.reverse_proxy_count, 2);
}

#[test]
fn every_key_can_be_set_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    for key in keys::KEYS.iter().filter(|k| k.name != "MODE") {
        let value = match key.kind {
            keys::Kind::Bool => "true",
            keys::Kind::Int => "7",
            keys::Kind::List => "a,b",
            keys::Kind::Str | keys::Kind::Secret => "x",
        };
        let env: HashMap<String, String> = [
            ("MODE".to_owned(), "debug".to_owned()),
            (key.name.to_owned(), value.to_owned()),
        ]
        .into();
        let locations = Locations {
            system_file: dir.path().join("none"),
            instance_file: dir.path().join("none"),
        };
        let layers = Layers::load(&|name| env.get(name).cloned(), &locations).unwrap();
        let (_, source) = &layers.values[key.name];
        assert_eq!(
            *source,
            Source::Env(key.name.to_owned()),
            "{} is read from the environment",
            key.name
        );
    }
}

#[test]
fn an_empty_jwt_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(dir.path(), &[("PUBLIC_URL", "https://x.example")]).unwrap_err();
    assert!(matches!(err, ConfigError::EmptySecret), "{err}");
    let err = load(dir.path(), &[("MODE", "debug"), ("JWT_SECRET_KEY", "   ")]).unwrap_err();
    assert!(matches!(err, ConfigError::EmptySecret), "{err}");
}

#[test]
fn a_short_jwt_secret_is_refused_in_production_only() {
    let dir = tempfile::tempdir().unwrap();
    let url = ("PUBLIC_URL", "https://x.example");
    let tag = ("MAILBOX_TAG_SECRET", TAG_SECRET);
    let short = "0123456789abcdef0123456789abcde"; // 31 bytes
    let err = load(dir.path(), &[url, tag, ("JWT_SECRET_KEY", short)]).unwrap_err();
    assert!(
        matches!(err, ConfigError::WeakSecret { bytes: 31 }),
        "{err}"
    );
    assert!(err.to_string().contains("openssl rand -base64 48"), "{err}");
    let long = format!("{short}f");
    assert!(load(dir.path(), &[url, tag, ("JWT_SECRET_KEY", &long)]).is_ok());
    for mode in ["debug", "test"] {
        let settings = load(dir.path(), &[("MODE", mode), ("JWT_SECRET_KEY", short)]);
        assert!(settings.is_ok(), "{mode}");
    }
}

#[test]
fn production_without_public_url_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "s".repeat(32);
    let err = load(dir.path(), &[("JWT_SECRET_KEY", &secret)]).unwrap_err();
    assert!(matches!(err, ConfigError::MissingPublicUrl), "{err}");
    assert!(err.to_string().contains("PUBLIC_URL=\"https://"), "{err}");
}

#[test]
fn a_file_that_does_not_parse_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "instance.conf",
        "BIND = \"0.0.0.0:80\"\nSUPPORT_EMAIL = \"a@b\n",
    );
    let err = load(dir.path(), PROD).unwrap_err();
    let ConfigError::Syntax { path, line, .. } = &err else {
        panic!("{err}")
    };
    assert!(path.ends_with("instance.conf"));
    assert_eq!(*line, 2);
    assert!(err.to_string().contains("instance.conf:2:"), "{err}");
}

#[test]
fn python_booleans_get_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "instance.conf",
        "# moved from the Flask deployment\nDEBUG_DONT_CONNECT_TO_API = True\n",
    );
    let err = load(dir.path(), PROD).unwrap_err();
    let text = err.to_string();
    assert!(text.contains(":2:"), "{text}");
    assert!(text.contains("use `true` instead of `True`"), "{text}");
    write(dir.path(), "instance.conf", "MAIL_SERVER_SSL=False\n");
    assert!(
        load(dir.path(), PROD)
            .unwrap_err()
            .to_string()
            .contains("`false` instead of `False`")
    );
    write(dir.path(), "instance.conf", "MAIL_SERVER_HOST = None\n");
    assert!(
        load(dir.path(), PROD)
            .unwrap_err()
            .to_string()
            .contains("TOML has no None")
    );
    write(
        dir.path(),
        "instance.conf",
        "MAIL_SERVER_HOST = smtp.example\n",
    );
    assert!(
        load(dir.path(), PROD)
            .unwrap_err()
            .to_string()
            .contains("need quotes")
    );
}

#[test]
fn a_value_of_the_wrong_type_names_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "instance.conf", "MAIL_SERVER_PORT = \"587\"\n");
    let err = load(dir.path(), PROD).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("MAIL_SERVER_PORT")
            && text.contains("instance.conf")
            && text.contains("whole number"),
        "{text}"
    );
    std::fs::remove_file(dir.path().join("instance.conf")).unwrap();
    let err = load(
        dir.path(),
        &[
            ("JWT_SECRET_KEY", "s3cret-of-at-least-thirty-two-bytes"),
            ("MAILBOX_TAG_SECRET", TAG_SECRET),
            ("PUBLIC_URL", "https://x.example"),
            ("MAIL_SERVER_SSL", "maybe"),
        ],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("environment variable MAIL_SERVER_SSL"),
        "{err}"
    );
}

#[test]
fn invalid_values_are_refused_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, expected) in [
        ("PASSWORD_DELIVERY", "sms", "mail, page, both"),
        ("LOG_FORMAT", "xml", "text, json"),
        ("EMAIL_ADDRESS_FILTER", "st[0-9+", "regular expression"),
        ("PUBLIC_URL", "signup.uni.example", "not a URL"),
        ("GRAPH_API_URL", "ftp://graph.example", "https://"),
        ("GENERATED_PASSWORD_BYTES", "2", "outside"),
        ("MAIL_SERVER_PORT", "70000", "outside"),
    ] {
        let mut env = PROD.to_vec();
        env.push((key, value));
        let err = load(dir.path(), &env).unwrap_err().to_string();
        assert!(
            err.contains(key) && err.contains(expected),
            "{key}={value}: {err}"
        );
    }
}

#[test]
fn unknown_keys_warn_and_the_originals_retired_keys_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "instance.conf",
        "SQLALCHEMY_DATABASE_URI = \"sqlite:////app-mnt/db.sqlite\"\nSUPORT_EMAIL = \"x\"\nbind = \"0.0.0.0:80\"\n",
    );
    let (_, warnings) = load(dir.path(), PROD).unwrap();
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("SQLALCHEMY_DATABASE_URI") && w.contains("emails import")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|w| w.contains("SUPORT_EMAIL")));
    assert!(warnings.iter().any(|w| w.contains("did you mean BIND")));
}

#[test]
fn missing_files_are_skipped_and_a_missing_config_file_is_named_in_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (_, warnings) = load(dir.path(), PROD).unwrap();
    assert!(warnings.is_empty());
    let mut env = PROD.to_vec();
    env.push(("CONFIG_FILE", "/nonexistent/ms365.conf"));
    let (_, warnings) = load(dir.path(), &env).unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("/nonexistent/ms365.conf"),
        "{warnings:?}"
    );
}

#[test]
fn an_unreadable_config_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = PROD.to_vec();
    let as_dir = dir.path().to_str().unwrap().to_owned();
    env.push(("CONFIG_FILE", as_dir.as_str()));
    let err = load(dir.path(), &env).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err}");
}

#[test]
fn a_missing_secret_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = PROD.to_vec();
    env.push(("MAIL_SERVER_PW_FILE", "/nonexistent/pw"));
    let err = load(dir.path(), &env).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/pw"), "{err}");
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = PROD.to_vec();
    env.push(("MAIL_SERVER_PW", "smtp-pass-123"));
    let (settings, _) = load(dir.path(), &env).unwrap();
    let debug = format!("{settings:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains("smtp-pass-123"),
        "{debug}"
    );
}

/// The README's configuration table, generated from [`keys::KEYS`].
fn readme_table() -> String {
    let mut table = String::from("| Key | Default | Meaning |\n|---|---|---|\n");
    for key in keys::KEYS {
        let default = if key.default.is_empty() {
            "—".to_owned()
        } else {
            format!("`{}`", key.default.replace('|', "\\|"))
        };
        table.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            key.name,
            key.doc.replace('|', "\\|")
        ));
    }
    table
}

#[test]
fn the_readme_lists_every_key_with_its_default() {
    const START: &str = "<!-- config-table:start -->\n";
    const END: &str = "<!-- config-table:end -->";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the config-table markers");
    };
    let current = &readme[start + START.len()..end];
    let expected = readme_table();
    if std::env::var_os("UPDATE_README").is_some() && current != expected {
        let updated = format!("{}{START}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        current == expected,
        "the README's configuration table is out of date: run `UPDATE_README=1 cargo test --lib config`"
    );
}

#[test]
fn ssl_alone_turns_the_starttls_default_off_but_both_set_explicitly_stay_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = PROD.to_vec();
    env.push(("MAIL_SERVER_SSL", "true"));
    let (settings, _) = load(dir.path(), &env).unwrap();
    assert!(settings.mail.ssl && !settings.mail.starttls);
    env.push(("MAIL_SERVER_STARTTLS", "true"));
    let (settings, _) = load(dir.path(), &env).unwrap();
    assert!(
        settings.mail.ssl && settings.mail.starttls,
        "the mailer refuses this at start-up"
    );
}

#[test]
fn trusted_proxies_are_ranges_and_imply_one_hop_unless_a_count_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let debug = ("MODE", "debug");
    let (settings, _) = load(dir.path(), &[debug, ("TRUSTED_PROXIES", "10.0.0.0/8, ::1")]).unwrap();
    assert_eq!(settings.reverse_proxy_count, 1);
    let shown: Vec<String> = settings
        .trusted_proxies
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(shown, ["10.0.0.0/8", "::1/128"]);
    let explicit = [
        debug,
        ("TRUSTED_PROXIES", "[\"10.0.0.1\"]"),
        ("REVERSE_PROXY_COUNT", "2"),
    ];
    assert_eq!(
        load(dir.path(), &explicit).unwrap().0.reverse_proxy_count,
        2
    );
    let (settings, _) = load(dir.path(), &[debug]).unwrap();
    assert_eq!(settings.reverse_proxy_count, 0);
    assert!(settings.trusted_proxies.is_empty());
    let err = load(dir.path(), &[debug, ("TRUSTED_PROXIES", "proxy.example")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("TRUSTED_PROXIES") && text.contains("proxy.example"),
        "{text}"
    );
}

#[test]
fn only_a_debug_run_without_database_path_keeps_its_store_for_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let store_per_run = |env: &[(&str, &str)]| load(dir.path(), env).unwrap().0.store_per_run;
    assert!(store_per_run(&[("MODE", "debug")]));
    assert!(!store_per_run(&[
        ("MODE", "debug"),
        ("DATABASE_PATH", "/srv/store")
    ]));
    assert!(!store_per_run(&[("MODE", "test")]));
    assert!(!store_per_run(PROD));
}

#[test]
fn the_mailbox_tag_secret_is_required_and_long_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let without: Vec<(&str, &str)> = PROD
        .iter()
        .copied()
        .filter(|(key, _)| *key != "MAILBOX_TAG_SECRET")
        .collect();
    let err = load(dir.path(), &without).unwrap_err();
    assert!(matches!(err, ConfigError::EmptyTagSecret), "{err}");
    assert!(err.to_string().contains("MAILBOX_TAG_SECRET_FILE"), "{err}");
    let mut short = without.clone();
    short.push(("MAILBOX_TAG_SECRET", "0123456789abcdef0123456789abcde"));
    let err = load(dir.path(), &short).unwrap_err();
    assert!(
        matches!(err, ConfigError::WeakTagSecret { bytes: 31 }),
        "{err}"
    );
    assert!(err.to_string().contains("openssl rand -base64 48"), "{err}");
    assert!(
        !err.to_string().contains("0123456789abcdef"),
        "the secret itself is not shown: {err}"
    );
}

#[test]
fn the_mailbox_tag_secret_has_fixed_defaults_outside_production_and_a_file_variant() {
    let dir = tempfile::tempdir().unwrap();
    for (mode, default) in [("debug", "debug"), ("test", "test")] {
        let (settings, _) = load(dir.path(), &[("MODE", mode)]).unwrap();
        assert_eq!(settings.mailbox_tag_secret.expose_secret(), default);
    }
    let file = write(dir.path(), "tag-secret", &format!("{TAG_SECRET}\n"));
    let mut env: Vec<(&str, &str)> = PROD
        .iter()
        .copied()
        .filter(|(key, _)| *key != "MAILBOX_TAG_SECRET")
        .collect();
    env.push(("MAILBOX_TAG_SECRET_FILE", &file));
    let (settings, _) = load(dir.path(), &env).unwrap();
    assert_eq!(settings.mailbox_tag_secret.expose_secret(), TAG_SECRET);
}

#[test]
fn the_tag_attribute_is_one_of_the_fifteen_extension_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let (settings, _) = load(dir.path(), PROD).unwrap();
    assert_eq!(
        settings.graph.mailbox_tag_attribute.name(),
        "extensionAttribute15"
    );
    let mut env = PROD.to_vec();
    env.push(("GRAPH_API_MAILBOX_TAG_ATTRIBUTE", "extensionAttribute3"));
    let (settings, _) = load(dir.path(), &env).unwrap();
    assert_eq!(
        settings.graph.mailbox_tag_attribute.name(),
        "extensionAttribute3"
    );
    let mut env = PROD.to_vec();
    env.push(("GRAPH_API_MAILBOX_TAG_ATTRIBUTE", "employeeId"));
    let err = load(dir.path(), &env).unwrap_err().to_string();
    assert!(
        err.contains("GRAPH_API_MAILBOX_TAG_ATTRIBUTE") && err.contains("extensionAttribute15"),
        "{err}"
    );
}
