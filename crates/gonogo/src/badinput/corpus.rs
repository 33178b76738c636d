//! The HTTP corpus of a bad-input phase: the built-in cases, family by family, and
//! the extra cases of a `cases = "file.toml"` file.
//!
//! Owns: the exact bytes of every case and its default accepted answers. A case's
//! hostile part replaces `{case}` in the phase's `target`; the rest of the request
//! is well formed, so that what is judged is the service's answer to that part.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::model::{CaseFamily, Delivery};
use crate::plan::BadInputPlan;

/// One case ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub family: CaseFamily,
    pub delivery: Delivery,
    pub bytes: Vec<u8>,
    pub reject: Vec<u16>,
    pub closed_ok: bool,
}

/// Why the cases file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read the bad_input cases file {path}: {source}; check `cases` in the phase")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the bad_input cases file {path} is not valid: {message}; each [[case]] needs name, family and target (or raw)"
    )]
    Invalid { path: String, message: String },
}

/// The statuses a family's cases may be refused with. A 404 or 405 refuses the
/// request before its hostile part is acted on, except for oversized heads, which
/// must be refused as too large.
pub fn default_reject(family: CaseFamily) -> &'static [u16] {
    match family {
        CaseFamily::Traversal | CaseFamily::Encoding => &[400, 403, 404, 405],
        CaseFamily::Oversize => &[400, 405, 413, 414, 431],
        CaseFamily::Framing => &[400, 404, 405, 411, 413, 501],
        CaseFamily::Method => &[400, 405, 501],
        CaseFamily::Body => &[400, 403, 404, 405, 413, 415, 422],
        CaseFamily::Slow => &[400, 408],
    }
}

/// Builds requests for one phase: its target template and `Host`.
struct Builder<'a> {
    plan: &'a BadInputPlan,
    host: &'a str,
}

impl Builder<'_> {
    /// The request target with `{case}` replaced by `part`, bytes as given.
    fn target(&self, part: &[u8]) -> Vec<u8> {
        let text = self.plan.target.as_bytes();
        let mut out = Vec::with_capacity(text.len() + part.len());
        let mut rest = text;
        while let Some(at) = find(rest, b"{case}") {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(part);
            rest = &rest[at + 6..];
        }
        out.extend_from_slice(rest);
        out
    }

    fn request(
        &self,
        method: &[u8],
        part: &[u8],
        headers: &[(&str, Vec<u8>)],
        body: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + body.len());
        out.extend_from_slice(method);
        out.push(b' ');
        out.extend_from_slice(&self.target(part));
        out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        out.extend_from_slice(self.host.as_bytes());
        out.extend_from_slice(b"\r\nConnection: close\r\n");
        for (name, value) in headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out
    }

    fn case(&self, name: &str, family: CaseFamily, bytes: Vec<u8>) -> Case {
        Case {
            name: name.to_string(),
            family,
            delivery: Delivery::Whole,
            bytes,
            reject: self
                .plan
                .reject
                .clone()
                .unwrap_or_else(|| default_reject(family).to_vec()),
            closed_ok: true,
        }
    }

    fn get(&self, name: &str, family: CaseFamily, part: &[u8]) -> Case {
        self.case(name, family, self.request(b"GET", part, &[], b""))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `unit` `n` times then `tail`.
fn repeat(unit: &str, n: usize, tail: &str) -> Vec<u8> {
    let mut out = unit.repeat(n).into_bytes();
    out.extend_from_slice(tail.as_bytes());
    out
}

/// The built-in cases of the plan's families, for a service reached as `host`.
pub fn builtin(plan: &BadInputPlan, host: &str) -> Vec<Case> {
    let b = Builder { plan, host };
    let mut cases = Vec::new();
    for family in &plan.families {
        match family {
            CaseFamily::Traversal => traversal(&b, &mut cases),
            CaseFamily::Encoding => encoding(&b, &mut cases),
            CaseFamily::Oversize => oversize(&b, &mut cases),
            CaseFamily::Framing => framing(&b, &mut cases),
            CaseFamily::Method => method(&b, &mut cases),
            CaseFamily::Body => body(&b, &mut cases),
            CaseFamily::Slow => slow(&b, &mut cases),
        }
    }
    cases
}

fn traversal(b: &Builder<'_>, out: &mut Vec<Case>) {
    let t = CaseFamily::Traversal;
    let gets: [(&str, Vec<u8>); 10] = [
        ("dotdot-slash", repeat("../", 8, "etc/passwd")),
        ("dotdot-encoded-slash", repeat("..%2f", 8, "etc%2fpasswd")),
        ("encoded-dots", repeat("%2e%2e/", 8, "etc/passwd")),
        ("dotdot-semicolon", repeat("..;/", 8, "etc/passwd")),
        (
            "double-encoded",
            repeat("%252e%252e%252f", 8, "etc%252fpasswd"),
        ),
        ("backslash", repeat("..\\", 8, "etc\\passwd")),
        ("encoded-backslash", repeat("..%5c", 8, "etc%5cpasswd")),
        (
            "overlong-utf8",
            repeat("%c0%ae%c0%ae%c0%af", 8, "etc%c0%afpasswd"),
        ),
        ("absolute-path", b"%2fetc%2fpasswd".to_vec()),
        ("nul-truncation", repeat("..%2f", 8, "etc%2fpasswd%00.png")),
    ];
    for (name, part) in gets {
        out.push(b.get(&format!("traversal-{name}"), t, &part));
    }
    let body = b"gonogo bad_input: this file was written outside the allowed directory\n";
    let length = body.len().to_string().into_bytes();
    for (name, part) in [
        ("write-dotdot", &b"../gonogo-bad-input-1.txt"[..]),
        ("write-encoded", &b"..%2fgonogo-bad-input-2.txt"[..]),
        ("write-deep", &b"..%2f..%2fgonogo-bad-input-3.txt"[..]),
    ] {
        let headers = [("Content-Length", length.clone())];
        let bytes = b.request(b"PUT", part, &headers, body);
        out.push(b.case(&format!("traversal-{name}"), t, bytes));
    }
}

fn encoding(b: &Builder<'_>, out: &mut Vec<Case>) {
    let e = CaseFamily::Encoding;
    out.push(b.get("encoding-nul-encoded", e, b"a%00b"));
    out.push(b.get("encoding-nul-raw", e, b"a\0b"));
    out.push(b.get("encoding-invalid-utf8-raw", e, b"\xff\xfe\xc3\x28"));
    out.push(b.get("encoding-invalid-utf8-encoded", e, b"%ff%fe%c3%28"));
    out.push(b.get("encoding-control-chars", e, b"a\x1b[31mb\x7f"));
}

fn oversize(b: &Builder<'_>, out: &mut Vec<Case>) {
    let o = CaseFamily::Oversize;
    // Past the usual head limits (nginx 8 KiB buffers, hyper about 400 KiB).
    out.push(b.get("oversize-request-line", o, &vec![b'a'; 1024 * 1024]));
    let big = vec![b'x'; 1024 * 1024];
    let header = b.request(b"GET", b"x", &[("X-Big", big)], b"");
    out.push(b.case("oversize-header", o, header));
    let many: Vec<(String, Vec<u8>)> = (0..10_000)
        .map(|i| (format!("X-H{i}"), b"v".to_vec()))
        .collect();
    let many: Vec<(&str, Vec<u8>)> = many.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
    out.push(b.case(
        "oversize-header-count",
        o,
        b.request(b"GET", b"x", &many, b""),
    ));
    let body = vec![b'b'; 8 * 1024 * 1024];
    let length = body.len().to_string().into_bytes();
    let with_length = b.request(b"PUT", b"big.bin", &[("Content-Length", length)], &body);
    out.push(b.case("oversize-body-content-length", o, with_length));
    let mut chunked = Vec::with_capacity(body.len() + 1024);
    for chunk in body.chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let te = [("Transfer-Encoding", b"chunked".to_vec())];
    out.push(b.case(
        "oversize-body-chunked",
        o,
        b.request(b"PUT", b"big.bin", &te, &chunked),
    ));
    let lie = [("Content-Length", b"99999999999999".to_vec())];
    out.push(b.case(
        "oversize-content-length-huge",
        o,
        b.request(b"PUT", b"big.bin", &lie, b"x"),
    ));
}

fn framing(b: &Builder<'_>, out: &mut Vec<Case>) {
    let f = CaseFamily::Framing;
    let both = [
        ("Content-Length", b"5".to_vec()),
        ("Transfer-Encoding", b"chunked".to_vec()),
    ];
    let body = b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    out.push(b.case(
        "framing-cl-and-te",
        f,
        b.request(b"POST", b"x", &both, body),
    ));
    let twice = [
        ("Content-Length", b"5".to_vec()),
        ("Content-Length", b"6".to_vec()),
    ];
    out.push(b.case(
        "framing-two-content-lengths",
        f,
        b.request(b"POST", b"x", &twice, b"abcdef"),
    ));
    let te = [("Transfer-Encoding", b"chunked".to_vec())];
    out.push(b.case(
        "framing-chunk-size-not-hex",
        f,
        b.request(b"POST", b"x", &te, b"zz\r\nabc\r\n0\r\n\r\n"),
    ));
    let overflow = b"fffffffffffffffffff\r\nabc\r\n0\r\n\r\n";
    out.push(b.case(
        "framing-chunk-size-overflow",
        f,
        b.request(b"POST", b"x", &te, overflow),
    ));
    let bad_te = [("Transfer-Encoding", b"chunked, identity".to_vec())];
    out.push(b.case(
        "framing-te-not-chunked-last",
        f,
        b.request(b"POST", b"x", &bad_te, b"3\r\nabc\r\n0\r\n\r\n"),
    ));
    let negative = [("Content-Length", b"-1".to_vec())];
    out.push(b.case(
        "framing-negative-content-length",
        f,
        b.request(b"POST", b"x", &negative, b""),
    ));
}

fn method(b: &Builder<'_>, out: &mut Vec<Case>) {
    let m = CaseFamily::Method;
    out.push(b.case("method-unknown", m, b.request(b"FOOBAR", b"x", &[], b"")));
    out.push(b.case(
        "method-control-char",
        m,
        b.request(b"G\x01ET", b"x", &[], b""),
    ));
    out.push(b.case("method-long", m, b.request(&[b'A'; 4096], b"x", &[], b"")));
}

fn body(b: &Builder<'_>, out: &mut Vec<Case>) {
    let k = CaseFamily::Body;
    let depth = 100_000;
    let mut bomb = "[".repeat(depth).into_bytes();
    bomb.extend_from_slice("]".repeat(depth).as_bytes());
    let headers = [
        ("Content-Type", b"application/json".to_vec()),
        ("Content-Length", bomb.len().to_string().into_bytes()),
    ];
    out.push(b.case(
        "body-json-bomb",
        k,
        b.request(b"POST", b"bomb.json", &headers, &bomb),
    ));
    // A Windows executable's magic bytes, declared as a PNG image.
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xffThis program cannot be run in DOS mode.\r\n";
    let headers = [
        ("Content-Type", b"image/png".to_vec()),
        ("Content-Length", exe.len().to_string().into_bytes()),
    ];
    out.push(b.case(
        "body-type-mismatch",
        k,
        b.request(b"PUT", b"upload.png", &headers, exe),
    ));
}

fn slow(b: &Builder<'_>, out: &mut Vec<Case>) {
    let s = CaseFamily::Slow;
    // Enough header bytes that the dribble never ends before the slow timeout.
    let mut loris = b"GET ".to_vec();
    loris.extend_from_slice(&b.target(b"slowloris"));
    loris.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    loris.extend_from_slice(b.host.as_bytes());
    loris.extend_from_slice(b"\r\nX-Slowloris: ");
    loris.extend_from_slice(&[b'a'; 4096]);
    let mut case = b.case("slow-loris", s, loris);
    case.delivery = Delivery::Dribble;
    out.push(case);
    let mut pipelined = Vec::new();
    for _ in 0..64 {
        let mut one = b.request(b"GET", b"slow-read", &[], b"");
        // Keep the connection open for every request of the batch.
        if let Some(at) = find(&one, b"Connection: close\r\n") {
            one.drain(at..at + 19);
        }
        pipelined.extend_from_slice(&one);
    }
    let mut case = b.case("slow-read", s, pipelined);
    case.delivery = Delivery::SlowRead;
    case.reject = vec![400, 404, 408];
    out.push(case);
}

/// A `[[case]]` of a cases file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCase {
    name: String,
    family: String,
    #[serde(default)]
    method: Option<String>,
    /// The hostile part, put in the phase's `target`.
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    /// The whole request instead, `{host}` replaced.
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    reject: Option<Vec<u16>>,
    #[serde(default)]
    closed_ok: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CasesFile {
    #[serde(default)]
    case: Vec<FileCase>,
}

/// The cases of the file at `path`.
pub fn from_file(path: &Path, plan: &BadInputPlan, host: &str) -> Result<Vec<Case>, CorpusError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CorpusError::Read {
        path: shown.clone(),
        source,
    })?;
    parse_file(&text, plan, host).map_err(|message| CorpusError::Invalid {
        path: shown,
        message,
    })
}

fn parse_file(text: &str, plan: &BadInputPlan, host: &str) -> Result<Vec<Case>, String> {
    let file: CasesFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let b = Builder { plan, host };
    let mut cases = Vec::new();
    for (i, raw) in file.case.into_iter().enumerate() {
        let family = CaseFamily::from_name(&raw.family)
            .ok_or_else(|| format!("case[{i}] `{}`: unknown family `{}`", raw.name, raw.family))?;
        let bytes = match (&raw.raw, &raw.target) {
            (Some(whole), None) => whole.replace("{host}", host).into_bytes(),
            (None, Some(part)) => {
                let method = raw.method.as_deref().unwrap_or("GET");
                let body = raw.body.as_deref().unwrap_or("");
                let mut headers: Vec<(&str, Vec<u8>)> = raw
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.clone().into_bytes()))
                    .collect();
                if !body.is_empty()
                    && !raw
                        .headers
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case("content-length"))
                {
                    headers.push(("Content-Length", body.len().to_string().into_bytes()));
                }
                b.request(
                    method.as_bytes(),
                    part.as_bytes(),
                    &headers,
                    body.as_bytes(),
                )
            }
            _ => {
                return Err(format!(
                    "case[{i}] `{}`: give exactly one of `target` and `raw`",
                    raw.name
                ));
            }
        };
        let mut case = b.case(&raw.name, family, bytes);
        if let Some(reject) = raw.reject {
            case.reject = reject;
        }
        if let Some(closed_ok) = raw.closed_ok {
            case.closed_ok = closed_ok;
        }
        cases.push(case);
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> BadInputPlan {
        BadInputPlan {
            target: "/files/{case}".to_string(),
            cases_file: None,
            families: CaseFamily::ALL.to_vec(),
            timeout: std::time::Duration::from_secs(1),
            slow_timeout: std::time::Duration::from_secs(1),
            drip: std::time::Duration::from_secs(1),
            reject: None,
            confine: None,
            secrets: Vec::new(),
            post_check: None,
            post_timeout: std::time::Duration::from_secs(1),
            rss_growth: 0.5,
            fds_growth: 16,
        }
    }

    #[test]
    fn every_family_has_cases_with_unique_names_and_the_target_in_place() {
        let cases = builtin(&plan(), "127.0.0.1:1");
        for family in CaseFamily::ALL {
            assert!(cases.iter().any(|c| c.family == family), "{family:?}");
        }
        let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), cases.len());
        let dotdot = cases
            .iter()
            .find(|c| c.name == "traversal-dotdot-slash")
            .unwrap();
        assert!(
            dotdot.bytes.starts_with(b"GET /files/../../"),
            "{:?}",
            dotdot.bytes
        );
    }

    #[test]
    fn a_cases_file_adds_cases_and_refuses_unknown_families() {
        let text = "[[case]]\nname = \"mine\"\nfamily = \"traversal\"\nmethod = \"PUT\"\ntarget = \"..%2fx\"\nbody = \"hi\"\nreject = [400]\n";
        let cases = parse_file(text, &plan(), "h").unwrap();
        assert_eq!(cases[0].reject, vec![400]);
        assert!(
            cases[0]
                .bytes
                .starts_with(b"PUT /files/..%2fx HTTP/1.1\r\nHost: h\r\n")
        );
        assert!(cases[0].bytes.ends_with(b"Content-Length: 2\r\n\r\nhi"));
        let bad = parse_file(
            "[[case]]\nname = \"x\"\nfamily = \"nope\"\ntarget = \"a\"\n",
            &plan(),
            "h",
        );
        assert!(bad.unwrap_err().contains("unknown family `nope`"));
    }
}
