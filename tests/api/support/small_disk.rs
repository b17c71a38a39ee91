//! A small filesystem of its own for the store, to fill up: the fault suite's full disk.
//!
//! A tmpfs mounted in a user and mount namespace of its own (`unshare --user --map-root-user
//! --mount`), so it needs no root and leaves the machine's mounts alone. A holder process keeps
//! the namespace alive; servers join it with `nsenter`, so a restarted server finds the same
//! store; the test fills and frees the disk through the holder's `/proc/PID/root`.

use std::fs::File;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// What a machine needs for these tests; they fail rather than skip without it.
const NEEDS: &str = "the full-disk tests need util-linux's `unshare` and `nsenter` and user \
    namespaces: `unshare --user --map-root-user --mount true` must succeed (it does as root; \
    otherwise enable unprivileged user namespaces, e.g. sysctl \
    kernel.unprivileged_userns_clone=1, or on Ubuntu \
    kernel.apparmor_restrict_unprivileged_userns=0)";

pub struct SmallDisk {
    holder: Child,
    mount_point: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts an empty tmpfs of `size` (as `mount -o size=` takes it, e.g. `256k`).
    pub fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mount_point = dir.path().join("disk");
        std::fs::create_dir(&mount_point).expect("the mount point");
        // The holder waits for its stdin to close: when it is dropped, or the test dies.
        let mut holder = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
            .arg(r#"mount -t tmpfs -o size="$1" tmpfs "$2" && echo mounted && exec cat >/dev/null"#)
            .arg("sh")
            .arg(size)
            .arg(&mount_point)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{NEEDS}. Running unshare failed: {err}"));
        let mut line = String::new();
        let stdout = holder.stdout.take().expect("a piped stdout");
        let _ = BufReader::new(stdout).read_line(&mut line);
        if line.trim() != "mounted" {
            let _ = holder.kill();
            let _ = holder.wait();
            let mut stderr = String::new();
            if let Some(mut pipe) = holder.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("{NEEDS}. It said: {}", stderr.trim());
        }
        SmallDisk {
            holder,
            mount_point,
            _dir: dir,
        }
    }

    /// The mount point, as servers started behind [`launcher`](Self::launcher) see it.
    pub fn path(&self) -> &Path {
        &self.mount_point
    }

    /// For `ServerProcess::start_via`: runs the server in the disk's namespaces, keeping its
    /// uid (unprivileged, nsenter could not switch to root there) and `working_dir` (entering
    /// a mount namespace would otherwise put it in `/`).
    pub fn launcher(&self, working_dir: &Path) -> Vec<String> {
        vec![
            "nsenter".into(),
            "--target".into(),
            self.holder.id().to_string(),
            "--user".into(),
            "--mount".into(),
            "--preserve-credentials".into(),
            format!("--wd={}", working_dir.display()),
        ]
    }

    /// The ballast file, as this process reaches it: through the holder's root.
    fn ballast(&self) -> PathBuf {
        let inside = self
            .mount_point
            .strip_prefix("/")
            .expect("an absolute path");
        Path::new(&format!("/proc/{}/root", self.holder.id()))
            .join(inside)
            .join("ballast")
    }

    /// Fills the disk to the last byte.
    pub fn fill(&self) {
        let mut file = File::create(self.ballast()).expect("the ballast file");
        let block = [0u8; 4096];
        loop {
            match file.write(&block) {
                Ok(0) => panic!("the disk took no more bytes but reported no error"),
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::StorageFull => return,
                Err(err) => panic!("filling the disk: {err}"),
            }
        }
    }

    /// Deletes what [`fill`](Self::fill) wrote.
    pub fn free(&self) {
        std::fs::remove_file(self.ballast()).expect("the ballast file is deleted");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
