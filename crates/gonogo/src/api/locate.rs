//! Where the evidence store is, found the way git finds `.git`: walk up from a
//! directory to the first `.gonogo/evidence.db`, stopping at the top of the git
//! repository the walk started in (one project store per repository); outside a
//! repository, only the directory itself.
//!
//! Owns: the search and its rule for a new store. A run stores into the first store
//! found walking up from its spec's directory; with none, into a new one at the top
//! of the repository (so `gonogo runs` anywhere in the project finds it), or, outside
//! a repository, beside the spec. Reading commands walk up from the working
//! directory (or from `--spec`'s directory) and, finding nothing, say where they
//! looked. Does not own: opening the store (that is `evidence`).

use std::path::{Path, PathBuf};

/// The store's directory name.
pub const STORE_DIR: &str = ".gonogo";
/// The store's file name inside [`STORE_DIR`].
pub const STORE_FILE: &str = "evidence.db";

/// What a walk up from a directory found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// The first `.gonogo/evidence.db` on the way up.
    pub found: Option<PathBuf>,
    /// The directories searched, nearest first.
    pub looked: Vec<PathBuf>,
    /// The top of the git repository the walk started in, when it did.
    pub repository: Option<PathBuf>,
}

/// Walk up from `start` (made absolute) to the first store, no further than the top
/// of the git repository `start` is in. Outside a repository only `start` itself is
/// searched, so a store some other directory above happens to hold (a `/tmp/.gonogo`
/// left by someone else) is never picked up.
pub fn walk_up(start: &Path) -> Walk {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let repository = start
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf);
    let mut walk = Walk {
        found: None,
        looked: Vec::new(),
        repository,
    };
    for dir in start.ancestors() {
        walk.looked.push(dir.to_path_buf());
        let store = dir.join(STORE_DIR).join(STORE_FILE);
        if store.is_file() {
            walk.found = Some(store);
            break;
        }
        if walk.repository.as_deref().is_none_or(|top| top == dir) {
            break;
        }
    }
    walk
}

/// The store a run of the spec at `spec` records into.
pub fn store_for_run(spec: &Path) -> PathBuf {
    // `campaign.toml` has an empty parent: the current directory, shown as `.gonogo/…`.
    let spec_dir = spec.parent().unwrap_or(Path::new(""));
    let start = if spec_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        spec_dir
    };
    let walk = walk_up(start);
    let store = walk.found.unwrap_or_else(|| {
        walk.repository
            .unwrap_or_else(|| spec_dir.to_path_buf())
            .join(STORE_DIR)
            .join(STORE_FILE)
    });
    shown_from_cwd(store)
}

/// `path` relative to the working directory when it lies below it (as people type
/// paths, and as hints show them), else as it is.
fn shown_from_cwd(path: PathBuf) -> PathBuf {
    let Ok(cwd) = std::env::current_dir() else {
        return path;
    };
    match path.strip_prefix(&cwd) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative.to_path_buf(),
        _ => path,
    }
}

/// The store a reading command finds walking up from `start`, or the directories
/// it searched.
pub fn store_for_reading(start: &Path) -> Result<PathBuf, Vec<PathBuf>> {
    let walk = walk_up(start);
    walk.found.map(shown_from_cwd).ok_or(walk.looked)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temp dir that is the top of a git repository (it holds `.git`).
    fn repository() -> tempfile::TempDir {
        let top = tempfile::tempdir().unwrap();
        std::fs::create_dir(top.path().join(".git")).unwrap();
        top
    }

    fn store_in(dir: &Path) -> PathBuf {
        let store = dir.join(STORE_DIR).join(STORE_FILE);
        std::fs::create_dir_all(store.parent().unwrap()).unwrap();
        std::fs::write(&store, b"").unwrap();
        store
    }

    #[test]
    fn a_run_in_a_repository_without_a_store_creates_one_at_its_top() {
        let top = repository();
        let examples = top.path().join("examples");
        std::fs::create_dir(&examples).unwrap();
        let store = store_for_run(&examples.join("demo.toml"));
        assert_eq!(store, top.path().join(".gonogo/evidence.db"));
        // …and a reading command anywhere below the top finds it once it exists.
        store_in(top.path());
        assert_eq!(store_for_reading(&examples), Ok(store));
    }

    #[test]
    fn the_nearest_store_on_the_way_up_wins() {
        let top = repository();
        let nested = top.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        let near = store_in(&top.path().join("a"));
        store_in(top.path());
        assert_eq!(store_for_run(&nested.join("spec.toml")), near);
        assert_eq!(store_for_reading(&nested), Ok(near));
    }

    #[test]
    fn outside_a_repository_a_run_stores_beside_its_spec() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("campaign.toml");
        assert_eq!(store_for_run(&spec), dir.path().join(".gonogo/evidence.db"));
        // A store in a directory above is not this project's.
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        store_in(dir.path());
        assert_eq!(
            store_for_run(&inner.join("t.toml")),
            inner.join(".gonogo/evidence.db")
        );
        assert_eq!(store_for_reading(&inner), Err(vec![inner.clone()]));
    }

    #[test]
    fn finding_no_store_says_where_it_looked() {
        let top = repository();
        let inner = top.path().join("x");
        std::fs::create_dir(&inner).unwrap();
        let looked = store_for_reading(&inner).unwrap_err();
        assert_eq!(looked, vec![inner, top.path().to_path_buf()]);
    }
}
