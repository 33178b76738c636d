//! The file endpoint (`--files DIR`): `GET /files/{path}` serves a file under DIR,
//! `PUT /files/{path}` writes one. Safe by default: the decoded path must be
//! relative, with no `..`, `.`, empty, backslash or NUL component (else 400), a body
//! over 1 MiB is refused (413, on its Content-Length before it is read), and a PUT declared `image/png` must carry PNG bytes
//! (415). With `--files-unsafe` the decoded path is joined to DIR as it is, so
//! `../` in any encoding the router decodes escapes DIR: a knob for gonogo's
//! bad-input phase to catch.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The largest body a PUT may carry.
const MAX_FILE_BYTES: usize = 1 << 20;

/// Where files live and whether paths are checked.
#[derive(Debug, Clone)]
pub struct Files {
    pub dir: PathBuf,
    pub unsafe_paths: bool,
}

/// The `/files` routes.
pub fn router(files: Files) -> Router {
    Router::new()
        .route("/files/{*path}", get(read).put(write))
        .layer(DefaultBodyLimit::disable())
        .with_state(Arc::new(files))
}

/// The file `path` names; `None` for a path the safe endpoint refuses.
fn resolve(files: &Files, path: &str) -> Option<PathBuf> {
    if files.unsafe_paths {
        return Some(files.dir.join(path));
    }
    let bad = path.is_empty()
        || path.starts_with('/')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == ".." || c.contains(['\\', '\0']));
    (!bad).then(|| files.dir.join(FsPath::new(path)))
}

async fn read(State(files): State<Arc<Files>>, Path(path): Path<String>) -> Response {
    let Some(file) = resolve(&files, &path) else {
        return (StatusCode::BAD_REQUEST, "bad path\n").into_response();
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => bytes.into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

async fn write(
    State(files): State<Arc<Files>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let announced = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if !files.unsafe_paths && announced.is_some_and(|n| n > MAX_FILE_BYTES as u64) {
        return (StatusCode::PAYLOAD_TOO_LARGE, "too large\n").into_response();
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_FILE_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "too large or cut short\n").into_response();
    };
    let Some(file) = resolve(&files, &path) else {
        return (StatusCode::BAD_REQUEST, "bad path\n").into_response();
    };
    let png = headers
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"image/png"));
    if !files.unsafe_paths && png && !body.starts_with(b"\x89PNG\r\n\x1a\n") {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not a PNG\n").into_response();
    }
    match tokio::fs::write(&file, &body).await {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "cannot write there\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(unsafe_paths: bool) -> Files {
        Files {
            dir: PathBuf::from("/srv/data"),
            unsafe_paths,
        }
    }

    #[test]
    fn the_safe_endpoint_refuses_every_escape_and_the_unsafe_one_joins_as_is() {
        let safe = files(false);
        for bad in [
            "",
            "..",
            "../x",
            "a/../b",
            "/etc/passwd",
            "a//b",
            "./a",
            "a\\..\\b",
            "a\0b",
        ] {
            assert_eq!(resolve(&safe, bad), None, "{bad:?}");
        }
        assert_eq!(
            resolve(&safe, "a/b.txt"),
            Some(PathBuf::from("/srv/data/a/b.txt"))
        );
        let open = files(true);
        assert_eq!(
            resolve(&open, "../../etc/passwd"),
            Some(PathBuf::from("/srv/data/../../etc/passwd"))
        );
        assert_eq!(
            resolve(&open, "/etc/passwd"),
            Some(PathBuf::from("/etc/passwd"))
        );
    }
}
