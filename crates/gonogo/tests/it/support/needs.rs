//! What some tests need from the machine (a real redis-server, PostgreSQL, Chromium,
//! nginx)
//! and what happens when it is missing.
//!
//! A missing program FAILS the test that needs it, with the package to install: a
//! test that returned early and passed would claim a check it never made. Only when
//! the user asks for it with `GONOGO_SKIP_MISSING=1` is such a test left out, and
//! then it is reported as *ignored*, never as passed: libtest cannot ignore a test
//! at run time, so this binary runs under `libtest-mimic` (`harness = false`), whose
//! trials can be marked ignored when the list is built (see `main.rs`). A skipped
//! test therefore shows in the summary's `ignored` count, and `--include-ignored`
//! runs it anyway (and fails it with the install hint).

use std::path::{Path, PathBuf};

/// The environment variable that turns a missing program from a failure into an
/// ignored test.
pub const SKIP_MISSING: &str = "GONOGO_SKIP_MISSING";

/// The one command that installs every program these tests need (Debian/Ubuntu).
pub const INSTALL_ALL: &str =
    "apt-get install -y redis-server postgresql chromium fonts-dejavu-core util-linux nginx";

/// A program some tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `redis-server` on PATH.
    Redis,
    /// `postgres` and `initdb` of a Debian PostgreSQL in `/usr/lib/postgresql/<v>/bin`.
    Postgres,
    /// Debian's `/usr/bin/chromium`.
    Chromium,
    /// Debian's `/usr/sbin/nginx`.
    Nginx,
}

impl Need {
    /// What is looked for, and the package that provides it.
    fn what(self) -> (&'static str, &'static str) {
        match self {
            Need::Redis => ("redis-server", "redis-server"),
            Need::Postgres => ("postgres (/usr/lib/postgresql/*/bin)", "postgresql"),
            Need::Chromium => (CHROMIUM, "chromium"),
            Need::Nginx => (NGINX, "nginx"),
        }
    }

    /// What is missing and how to install it.
    pub fn hint(self) -> String {
        let (what, package) = self.what();
        format!("{what} not found: apt-get install {package}")
    }

    /// Where the program is on this machine.
    pub fn find(self) -> Option<PathBuf> {
        self.find_in(std::env::var_os("PATH").as_deref(), Path::new("/"))
    }

    /// [`Need::find`] with `path` as `$PATH` and the fixed locations below `root`.
    fn find_in(self, path: Option<&std::ffi::OsStr>, root: &Path) -> Option<PathBuf> {
        match self {
            Need::Redis => path.and_then(|path| {
                std::env::split_paths(path)
                    .map(|dir| dir.join("redis-server"))
                    .find(|p| p.is_file())
            }),
            Need::Postgres => newest_postgres(&root.join("usr/lib/postgresql")),
            Need::Chromium => {
                let path = root.join(CHROMIUM.trim_start_matches('/'));
                path.is_file().then_some(path)
            }
            Need::Nginx => {
                let path = root.join(NGINX.trim_start_matches('/'));
                path.is_file().then_some(path)
            }
        }
    }

    /// The program, or a panic with the install hint (this fails the test).
    pub fn require(self) -> PathBuf {
        self.find().unwrap_or_else(|| panic!("{}", self.hint()))
    }
}

pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian installs nginx.
pub const NGINX: &str = "/usr/sbin/nginx";

/// The newest `<dir>/<version>/bin` holding `postgres` and `initdb`.
fn newest_postgres(dir: &Path) -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("postgres").is_file() && bin.join("initdb").is_file())
                .then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

/// Whether the user asked for tests with a missing program to be ignored.
pub fn skip_missing_requested() -> bool {
    std::env::var_os(SKIP_MISSING).is_some_and(|v| v == "1")
}

/// What becomes of a test whose first missing program is `missing`.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing is missing: the test runs.
    Run,
    /// Missing, and the user asked to skip: reported as ignored, with the hint.
    Ignore(String),
    /// Missing: the test fails with the install hint.
    Fail(String),
}

/// [`Decision`] for `missing`, skipping only when `skip` (`GONOGO_SKIP_MISSING=1`).
pub fn decide(missing: Option<Need>, skip: bool) -> Decision {
    match missing {
        None => Decision::Run,
        Some(need) if skip => Decision::Ignore(need.hint()),
        Some(need) => Decision::Fail(format!(
            "{} (or set {SKIP_MISSING}=1 to report the tests that need it as ignored)",
            need.hint()
        )),
    }
}

/// The first of `needs` missing on this machine, if any.
pub fn first_missing(needs: &[Need]) -> Option<Need> {
    needs.iter().copied().find(|need| need.find().is_none())
}

/// Unit tests of the policy above (trials of this binary, see `main.rs`).
pub mod tests {
    use super::*;

    /// An empty PATH and an empty root: nothing is found, and a test that needs it
    /// fails with the package to install, unless skipping is asked for; then it is
    /// ignored (never passed).
    pub fn a_missing_program_fails_with_the_install_hint() {
        let empty = tempfile::tempdir().unwrap();
        for (need, package) in [
            (Need::Redis, "redis-server"),
            (Need::Postgres, "postgresql"),
            (Need::Chromium, "chromium"),
            (Need::Nginx, "nginx"),
        ] {
            let found = need.find_in(Some(empty.path().as_os_str()), empty.path());
            assert_eq!(found, None, "{need:?}");
            let hint = need.hint();
            assert!(
                hint.ends_with(&format!(" not found: apt-get install {package}")),
                "{hint}"
            );
            assert!(INSTALL_ALL.contains(package), "{INSTALL_ALL}");
            let Decision::Fail(message) = decide(Some(need), false) else {
                panic!("a missing {package} must fail the test");
            };
            assert!(
                message.starts_with(&hint) && message.contains(SKIP_MISSING),
                "{message}"
            );
            assert_eq!(decide(Some(need), true), Decision::Ignore(hint));
        }
        assert_eq!(decide(None, false), Decision::Run);
        assert_eq!(decide(None, true), Decision::Run);
        let Decision::Fail(message) = decide(Some(Need::Redis), false) else {
            panic!("a missing redis-server must fail the test");
        };
        assert!(
            message.starts_with("redis-server not found: apt-get install redis-server"),
            "{message}"
        );
    }

    /// Programs where they are looked for are found.
    pub fn a_present_program_is_found() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("redis-server"), "").unwrap();
        let pg = root.path().join("usr/lib/postgresql");
        for version in ["15", "17"] {
            let dir = pg.join(version).join("bin");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("postgres"), "").unwrap();
            std::fs::write(dir.join("initdb"), "").unwrap();
        }
        std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
        std::fs::write(root.path().join("usr/bin/chromium"), "").unwrap();
        let path = Some(bin.as_os_str());
        assert_eq!(
            Need::Redis.find_in(path, root.path()),
            Some(bin.join("redis-server"))
        );
        assert_eq!(
            Need::Postgres.find_in(path, root.path()),
            Some(pg.join("17/bin")),
            "the newest version"
        );
        assert_eq!(
            Need::Chromium.find_in(path, root.path()),
            Some(root.path().join("usr/bin/chromium"))
        );
    }
}
