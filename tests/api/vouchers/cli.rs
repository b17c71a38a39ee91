//! `vouchers create | list | show | revoke` as the real binary runs them, and vouchers in
//! `store backup` / `store restore`.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::cli::{run_with, stdout};

const PUBLIC_URL: &str = "https://signup.example.edu/accounts";
const GROUP: &str = "7f3c0a52-9f0e-4a8e-b1c2-0d1e2f3a4b5c";

fn vouchers(store: &Path, args: &[&str]) -> Output {
    let mut all = vec!["vouchers"];
    all.extend(args);
    run_with(store, &all, &[("PUBLIC_URL", PUBLIC_URL)])
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap()
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "{}", stdout(output));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_voucher_is_made_listed_shown_and_revoked_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("db");

    // Arrange / Act: one for a course, one for guests.
    let course = json(&vouchers(
        &store,
        &[
            "create",
            "--name",
            "Course 42",
            "--uses",
            "30",
            "--valid-until",
            "2027-03-31",
            "--group",
            GROUP,
            "--lifetime-days",
            "180",
            "--json",
        ],
    ));
    let guests = stdout(&vouchers(
        &store,
        &[
            "create",
            "--name",
            "Guests",
            "--email-filter",
            r".*@partner\.example",
        ],
    ));

    // Assert: the code, grouped, in a link under PUBLIC_URL's path.
    let code = course["code"].as_str().unwrap();
    assert_eq!(code.len(), 19, "{code}");
    assert_eq!(code.split('-').count(), 4, "{code}");
    assert_eq!(
        course["link"],
        format!("https://signup.example.edu/accounts/?voucher={code}")
    );
    assert_eq!(course["name"], "Course 42");
    assert_eq!(
        (course["uses"].as_u64(), course["used"].as_u64()),
        (Some(30), Some(0))
    );
    assert_eq!(course["groups"], serde_json::json!([GROUP]));
    assert_eq!(course["licences"], Value::Null, "the configured licences");
    assert_eq!(course["lifetime_days"], 180);
    assert_eq!(course["valid_until"], "2027-03-31");
    assert!(guests.contains("name:           Guests"), "{guests}");
    assert!(
        guests.contains(r"address filter: .*@partner\.example"),
        "{guests}"
    );

    let listed = json(&vouchers(&store, &["list", "--json"]));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    let entry = listed.iter().find(|v| v["code"] == code).unwrap();
    assert_eq!(
        (entry["used"].as_u64(), entry["revoked"].as_bool()),
        (Some(0), Some(false))
    );

    // Revoked by the code as somebody types it: lower case, without the hyphens.
    let typed = code.replace('-', "").to_lowercase();
    let revoked = stdout(&vouchers(&store, &["revoke", &typed]));
    assert!(
        revoked.contains(code) && revoked.contains("Course 42"),
        "{revoked}"
    );
    let shown = json(&vouchers(&store, &["show", code, "--json"]));
    assert_eq!(
        (shown["revoked"].as_bool(), shown["state"].as_str()),
        (Some(true), Some("revoked"))
    );
    let lines = stdout(&vouchers(&store, &["list"]));
    assert!(
        lines.starts_with("code\tname\tused\tuses\tvalid until\tstate\n"),
        "{lines}"
    );
    assert!(
        lines.contains(&format!("{code}\tCourse 42\t0\t30\t2027-03-31\trevoked")),
        "{lines}"
    );
}

#[test]
fn wrong_input_is_refused_with_what_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("db");
    let cases: [(&[&str], &str); 6] = [
        (&["create", "--name", "x", "--uses", "0"], "at least 1"),
        (
            &["create", "--name", "x", "--group", "Students"],
            "not an object or SKU id",
        ),
        (
            &["create", "--name", "x", "--valid-until", "31.03.2027"],
            "YYYY-MM-DD",
        ),
        (
            &["create", "--name", "x", "--email-filter", "st[0-9+"],
            "not a valid regular expression",
        ),
        (
            &[
                "create",
                "--name",
                "x",
                "--lifetime-days",
                "3",
                "--ends-on",
                "2027-01-01",
            ],
            "cannot be used with",
        ),
        (
            &["show", "7KQ4-MX2C-9HPR-TWZE"],
            "there is no voucher 7KQ4-MX2C-9HPR-TWZE",
        ),
    ];
    for (args, expected) in cases {
        let err = stderr(&vouchers(&store, args));
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let listed = json(&vouchers(&store, &["list", "--json"]));
    assert_eq!(listed, serde_json::json!([]), "nothing was made");
}

#[test]
fn the_qr_code_holds_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("db");
    let png = dir.path().join("course.png");
    let svg = dir.path().join("course.svg");

    let made = json(&vouchers(
        &store,
        &[
            "create",
            "--name",
            "Course",
            "--qr",
            png.to_str().unwrap(),
            "--json",
        ],
    ));
    let code = made["code"].as_str().unwrap();
    stdout(&vouchers(
        &store,
        &["show", code, "--qr", svg.to_str().unwrap()],
    ));

    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let side = info.width as usize;
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = image.detect_grids();
    assert_eq!(grids[0].decode().unwrap().1, made["link"].as_str().unwrap());
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("<svg"), "{text}");
}

#[test]
fn vouchers_and_their_uses_survive_a_backup_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("db");
    let made = json(&vouchers(
        &store,
        &["create", "--name", "Course", "--uses", "3", "--json"],
    ));
    let file = dir.path().join("backup.jsonl");
    let backed_up = stdout(&run_with(
        &store,
        &["store", "backup", file.to_str().unwrap()],
        &[],
    ));
    assert!(backed_up.contains("voucher 1"), "{backed_up}");

    let restored_store = dir.path().join("restored");
    stdout(&run_with(
        &restored_store,
        &["store", "restore", file.to_str().unwrap()],
        &[],
    ));

    let listed = json(&vouchers(&restored_store, &["list", "--json"]));
    assert_eq!(listed[0]["code"], made["code"]);
    assert_eq!(listed[0]["uses"], 3);
    let verified = stdout(&run_with(&restored_store, &["store", "verify"], &[]));
    assert!(
        verified.contains("voucher 1") && verified.contains("no damage found"),
        "{verified}"
    );
}
