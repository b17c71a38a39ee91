//! The table of every configuration key: its name (the original's), kind, default and meaning.
//! It is the single source for loading, the unknown-key warning and the README table.

/// How a key's value is written and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    /// A string that must never be logged.
    Secret,
    Bool,
    Int,
    /// A list of strings: a TOML array, or comma-separated in an environment variable.
    List,
}

/// One configuration key.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    /// The default as a TOML literal; empty when the key has no default.
    pub default: &'static str,
    pub doc: &'static str,
}

const fn key(name: &'static str, kind: Kind, default: &'static str, doc: &'static str) -> Key {
    Key {
        name,
        kind,
        default,
        doc,
    }
}

use Kind::*;

/// Every key the program reads, in the order the README lists them.
#[rustfmt::skip]
pub const KEYS: &[Key] = &[
    key("MODE", Str, "\"PRODUCTION\"", "`PRODUCTION`, `DEBUG` or `TEST` (case-insensitive), read from the environment only; chooses the mode defaults."),
    key("JWT_SECRET_KEY", Secret, "", "Secret that signs verification links and keys the stored data. Required; PRODUCTION refuses fewer than 32 bytes (make one with `openssl rand -base64 48`; DEBUG: `debug`). `JWT_SECRET_KEY_FILE` reads it from a file."),
    key("MAILBOX_TAG_SECRET", Secret, "", "Secret that keys the mailbox tag written on every user this server creates (HMAC-SHA-256 of the mailbox: the directory then knows whose a user is without holding the address). Required; PRODUCTION refuses fewer than 32 bytes (make one with `openssl rand -base64 48`; DEBUG: `debug`). Keep it for good: with another secret no existing user is recognised, so a mailbox whose registration the store lost gets a second account. `MAILBOX_TAG_SECRET_FILE` reads it from a file."),
    key("PUBLIC_URL", Str, "", "The address people reach the service at, e.g. `https://signup.example.edu`; links in mails are built from it. Required in PRODUCTION (DEBUG: `http://` + the bound address)."),
    key("BIND", Str, "\"127.0.0.1:8080\"", "Address and port the server listens on."),
    key("DATABASE_PATH", Str, "\"instance/ms365_accountcreator.sled\"", "Directory of the embedded store (TEST: a directory under the system's temporary directory; DEBUG: a new one there for each run of the server, removed when it stops, so the store never outlives the mails kept in memory)."),
    key("DATABASE_URL", Secret, "", "PostgreSQL instead of sled, for several instances sharing one store: `postgres://user:password@host:5432/database` (add `?sslmode=require` for TLS, checked against the system's trusted roots). When set, `DATABASE_PATH` is ignored. Tables are created and migrated at start-up (and by `store migrate`). `DATABASE_URL_FILE` reads it from a file."),
    key("REVERSE_PROXY_COUNT", Int, "0", "Number of reverse proxies in front of the server whose `X-Forwarded-*` headers are trusted (1 when only `TRUSTED_PROXIES` is set)."),
    key("TRUSTED_PROXIES", List, "[]", "IP addresses and CIDR ranges of the reverse proxies, e.g. `[\"127.0.0.1\", \"10.0.0.0/8\"]`: `X-Forwarded-*` headers count only on connections from one of them, so a client that reaches `BIND` directly cannot choose its own address. Empty: every connection is believed (only safe when nothing but the proxy can reach `BIND`)."),
    key("LOG_LEVEL", Str, "\"info\"", "`error`, `warn`, `info`, `debug` or `trace`, or a `tracing` filter such as `info,sled=warn` (DEBUG: `debug`)."),
    key("LOG_FORMAT", Str, "\"text\"", "`text` or `json`."),
    key("DEBUG_DONT_CONNECT_TO_API", Bool, "false", "Simulate Microsoft Graph instead of calling it (DEBUG and TEST: `true`)."),
    key("DEBUG_DONT_SEND_MAIL", Bool, "false", "Keep mails in memory instead of sending them; outside PRODUCTION `/debug/mails` lists them (DEBUG and TEST: `true`). In PRODUCTION nobody gets a mail, and kept mails are never served."),
    key("GENERATED_PASSWORD_BYTES", Int, "8", "Random bytes (6 to 64) of a generated temporary password; it has at least 16 characters however few this asks for."),
    key("PASSWORD_DELIVERY", Str, "\"mail\"", "How the temporary password (or the Temporary Access Pass, see `CREDENTIAL`) reaches the person: `mail`, `page` or `both`."),
    key("CREDENTIAL", Str, "\"password\"", "What a new account's first sign-in rests on: `password` (a temporary password to change at the first sign-in) or `temporary_access_pass` (a Temporary Access Pass: the person signs in with it and registers their own methods — Authenticator, passkey, Windows Hello; the random password the user is created with is never shown to anyone). Passes need the tenant's Temporary Access Pass policy enabled and the Graph permission `UserAuthenticationMethod.ReadWrite.All` (`check` says whether both are there); password resets then issue a new pass."),
    key("TAP_LIFETIME_MINUTES", Int, "1440", "How long a Temporary Access Pass works, in minutes (10 to 43200, and within the minimum and maximum of the tenant's Temporary Access Pass policy, which are 60 and 480 unless changed: `check` compares them)."),
    key("TAP_USABLE_ONCE", Bool, "true", "Whether a Temporary Access Pass works for one sign-in only (`false`: as often as wanted until it expires, unless the tenant's policy makes every pass one-time)."),
    key("EMAIL_ADDRESS_FILTER", Str, "\".*\"", "Regular expression the whole mailbox (the address lower-cased, without a sub-address tag) must match, e.g. `st[0-9]+@stud\\\\.example\\\\.edu`; also used as the input's `pattern`, and as the `email` fields' pattern in the API spec when it can be written as one (the start-up log warns when not)."),
    key("EMAIL_SUBADDRESS_SEPARATOR", Str, "\"+\"", "The character after which a local part's sub-address tag starts (`st20+x@…` is delivered to `st20@…`). Duplicate check, filter, mail limit and store use the address without the tag, and the verification mail goes there. One symbol such as `+` or `-` (Exchange Online: `+`); an empty string turns this off, so `+` is an ordinary character."),
    key("SUPPORT_EMAIL", Str, "\"\"", "Support address shown on the page and in mails."),
    key("SIGN_IN_URL", Str, "\"https://www.office.com\"", "Where people sign in with their new account: named in the password mail and linked from the result page."),
    key("DEFAULT_LANGUAGE", Str, "\"en\"", "Language used when neither the address, the `lang` header nor `Accept-Language` names an available one."),
    key("TRANSLATIONS_DIR", Str, "", "Directory of `<lang>.po` files that replace or add to the built-in catalogues at start-up."),
    key("VERIFICATION_TOKEN_TTL_MINUTES", Int, "1440", "How long a verification link stays valid."),
    key("PASSWORD_RESET_ENABLED", Bool, "false", "Let people who lost their temporary password get a new one at `/password`, by proving their mailbox again (DEBUG: `true`). Only for accounts this server created; the app then needs the Graph permission `User-PasswordProfile.ReadWrite.All` or `User.ReadWrite.All` (`check` says whether its token has one). Off: the pages are not found and nothing links to them."),
    key("PASSWORD_RESET_TOKEN_TTL_MINUTES", Int, "60", "How long a password reset link stays valid."),
    key("RATE_LIMIT_PER_IP_PER_HOUR", Int, "100", "Sign-up submissions one client address may make per hour (the inline address check allows ten times as many). Behind a campus NAT many students share one address: raise it there."),
    key("RATE_LIMIT_IPV6_PREFIX", Int, "64", "IPv6 clients are counted per network of this many leading bits (an ISP hands a household a whole /64 or more, so per address each would have endless fresh ones); 128 counts single addresses."),
    key("RATE_LIMIT_MAILS_PER_HOUR", Int, "1000", "Verification mails the server sends per hour in total, whoever asks (against mass mailing to enumerable addresses); beyond it sign-ups answer 429 until the hour has room again."),
    key("RATE_LIMIT_MAILS_PER_ADDRESS_PER_HOUR", Int, "5", "Verification mails one mailbox may receive per hour, whatever its sub-address tags (against mail bombing)."),
    key("GRAPH_API_URL", Str, "\"https://graph.microsoft.com\"", "Base URL of Microsoft Graph (national clouds, test servers)."),
    key("GRAPH_API_AUTH_AUTHORITY", Str, "\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\"", "`https://login.microsoftonline.com/` followed by the tenant (directory) id."),
    key("GRAPH_API_AUTH_CLIENT_ID", Str, "\"00000000-0000-0000-0000-000000000000\"", "Application (client) id of the app registration."),
    key("GRAPH_API_AUTH_PUBKEY_THUMBPRINT", Str, "", "SHA-1 thumbprint of the uploaded certificate (hex); computed from `GRAPH_API_AUTH_CERT_PATH` when empty."),
    key("GRAPH_API_AUTH_PRIVKEY_PATH", Str, "\"/path/to/ms365AccountCreator.key\"", "PEM private key of the app's certificate (PKCS#1 or PKCS#8)."),
    key("GRAPH_API_AUTH_CERT_PATH", Str, "", "PEM certificate, used to compute the thumbprint."),
    key("GRAPH_API_USER_MAIL_DOMAIN", Str, "\"example.onmicrosoft.com\"", "Domain of the created users' names, e.g. `example.onmicrosoft.com`."),
    key("GRAPH_API_GROUPS_FOR_NEW_USERS", List, "[]", "Object ids of the groups every new user joins."),
    key("GRAPH_API_LICENSE_SKUS", List, "[\"314c4481-f395-4525-be8b-2ec4bb1e9d91\"]", "SKU ids of the licences every new user gets."),
    key("GRAPH_API_USAGE_LOCATION", Str, "\"DE\"", "Two-letter country code set as the users' usage location (needed for licences)."),
    key("GRAPH_API_MAILBOX_TAG_ATTRIBUTE", Str, "\"extensionAttribute15\"", "Which of the users' `extensionAttribute1` … `extensionAttribute15` (Exchange's custom attributes) holds the mailbox tag; pick one nobody in the tenant uses. Users made before tagging get theirs from `emails tag-existing`."),
    key("GRAPH_API_TIMEOUT_SECONDS", Int, "30", "Timeout of one Graph request."),
    key("GRAPH_API_WRITES_PER_MINUTE", Int, "1000", "Directory writes per minute sent at most, inline and from the queue together (a sign-up costs 2 + the number of groups: the user, the licences, one per group): by this server, or on PostgreSQL (`DATABASE_URL`) by all instances together, which share the budget and a 429's pause through the database — give each the same value. Microsoft allows about 3 000 per 150 s (1 200 a minute) per application and tenant; 1 000 leaves room for other tools of the tenant and for resets. Beyond it sign-ups wait in the queue instead of drawing 429s."),
    key("PROVISION_WAIT_SECONDS", Int, "5", "How long the confirm button waits for the account. Past it (or when Graph throttles or is down) the person sees \"your account is being created\", the registration waits in the durable queue, and a mail follows when it is ready."),
    key("MAIL_SERVER_HOST", Str, "\"\"", "Host name or address of the SMTP server."),
    key("MAIL_SERVER_PORT", Int, "25", "Port of the SMTP server."),
    key("MAIL_SERVER_SSL", Bool, "false", "Connect with implicit TLS (usually port 465). Not the same as `MAIL_SERVER_STARTTLS`, which is then off unless it is set explicitly."),
    key("MAIL_SERVER_STARTTLS", Bool, "true", "Upgrade the connection with STARTTLS (usually port 587). Not the same as `MAIL_SERVER_SSL`."),
    key("MAIL_SERVER_LOGIN", Bool, "true", "Log in to the SMTP server with `MAIL_SERVER_USER` and `MAIL_SERVER_PW`."),
    key("MAIL_SERVER_USER", Str, "\"\"", "SMTP user name."),
    key("MAIL_SERVER_PW", Secret, "\"\"", "SMTP password. `MAIL_SERVER_PW_FILE` reads it from a file."),
    key("MAIL_SENDING_ADDRESS", Str, "\"\"", "Sender address of the mails (`accounts@example.edu` or `Accounts <accounts@example.edu>`); the SMTP user must be allowed to use it. Its domain is used in `Message-ID`s."),
    key("MAIL_SERVER_CA_FILE", Str, "", "Extra trusted root certificate (PEM) for the SMTP server."),
    key("ACCOUNT_LIFETIME_DAYS", Int, "0", "How many days an account lives unless its voucher gives it a lifetime or an end date of its own; 0: for ever. The end is recorded when the account is created (accounts made before get it counted from their creation). Then the user is disabled, its licences removed and the person mailed; see [Accounts end](#accounts-end)."),
    key("REVERIFY_AFTER_DAYS", Int, "0", "Days after which a mailbox is asked again whether it is still the person's (a mail with a link and a button, counted from the sign-up or the last answer); 0: never. No answer within `REVERIFY_GRACE_DAYS`, or a mailbox that refuses the mail for good, ends the account."),
    key("REVERIFY_GRACE_DAYS", Int, "30", "Days the person has to answer a re-verification mail."),
    key("DELETE_AFTER_DAYS", Int, "30", "Days a disabled account waits before its user is deleted (Entra ID then keeps it restorable for another 30 days). 0: deleted in the run that disables it."),
    key("LIFECYCLE_WARN_DAYS", Int, "14", "Days before an account's end (one re-verification cannot prevent: its lifetime or its voucher's end date) that the person gets a warning mail; 0: no warning."),
    key("LIFECYCLE_RUN_HOUR", Int, "3", "The hour of the day (0–23, UTC) at which the server runs the lifecycle by itself, once a day (with several instances on PostgreSQL: one of them)."),
    key("METRICS_ENABLED", Bool, "false", "Serve Prometheus metrics at `/metrics`."),
    key("METRICS_BIND", Str, "", "Serve `/metrics` on this separate address instead of `BIND`."),
    key("VOUCHERS", Str, "\"off\"", "Whether the sign-up asks for a voucher (see [Vouchers](#vouchers)): `off` (no voucher field; a `voucher` in a form or API body is ignored), `optional` (a voucher brings its own licences, groups, address filter and account end; without one the settings here apply) or `required` (nobody signs up without a voucher)."),
    key("USE_VOUCHERS", Bool, "", "The original's voucher branch: `true` is read as `VOUCHERS = \"optional\"` (with a warning; write `VOUCHERS` instead). Ignored when `VOUCHERS` is set."),
    key("REQUIRE_VOUCHERS", Bool, "", "The original's voucher branch: `true` is read as `VOUCHERS = \"required\"` (with a warning; write `VOUCHERS` instead). Ignored when `VOUCHERS` is set."),
    key("ADMIN_ENABLED", Bool, "false", "The operator console at `/admin` (coming): operators sign in with Microsoft, through the same app registration (see [Operator console](#operator-console-coming)). Off: no console page exists."),
    key("ADMIN_GROUP_IDS", List, "[]", "Object ids of the Entra groups whose members may use the console (1 to 20; members of nested groups count too). Required when `ADMIN_ENABLED` is on."),
];

/// Keys whose value may also come from the file named in `<KEY>_FILE`.
pub const FILE_SECRETS: &[&str] = &[
    "JWT_SECRET_KEY",
    "MAILBOX_TAG_SECRET",
    "MAIL_SERVER_PW",
    "DATABASE_URL",
];

/// Looks a key up by name.
pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// Keys of the original Flask program that mean nothing here, with what to do instead.
pub const RETIRED: &[(&str, &str)] = &[
    (
        "SQLALCHEMY_DATABASE_URI",
        "the store is the directory DATABASE_PATH; bring old registrations over with `ms365-accountcreator emails import`",
    ),
    (
        "SQLALCHEMY_TRACK_MODIFICATIONS",
        "not used: there is no SQL database",
    ),
    (
        "LOGGING_CONFIGS",
        "logging is set with LOG_LEVEL and LOG_FORMAT",
    ),
    ("DEBUG", "set the environment variable MODE=debug instead"),
    ("TESTING", "set the environment variable MODE=test instead"),
    (
        "URI_BASE_PATH",
        "set PUBLIC_URL, or REVERSE_PROXY_COUNT with X-Forwarded-Prefix",
    ),
    ("AUTH_CLIENT_ID", "the key is GRAPH_API_AUTH_CLIENT_ID"),
    ("AUTH_AUTHORITY", "the key is GRAPH_API_AUTH_AUTHORITY"),
    (
        "AUTH_PUBKEY_THUMBPRINT",
        "the key is GRAPH_API_AUTH_PUBKEY_THUMBPRINT",
    ),
];
