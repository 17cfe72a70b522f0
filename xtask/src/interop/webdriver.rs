//! Just enough WebDriver (W3C, as chromedriver speaks it) to drive headless Chromium: start
//! chromedriver, open a session with command-line switches, load a page, run async scripts.
//!
//! The client is a blocking HTTP/1.1 exchange per command over a fresh loopback connection
//! (`Connection: close`), with JSON bodies: chromedriver needs nothing more, and it keeps the
//! xtask free of an HTTP client's dependency tree. Commands run on a blocking thread (the
//! caller wraps them in `spawn_blocking`).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running chromedriver, killed on drop.
pub struct ChromeDriver {
    child: Child,
    addr: SocketAddr,
}

impl ChromeDriver {
    /// Starts `chromedriver` (from `PATH`) on a free loopback port and waits until it answers.
    pub fn start() -> Result<Self, String> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "starting chromedriver: {e} (install Chromium and ChromeDriver with \
                     `bash scripts/install-chromium.sh`)"
                )
            })?;
        let driver = Self {
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match request(driver.addr, "GET", "/status", None) {
                Ok(status) if status["value"]["ready"] == json!(true) => return Ok(driver),
                _ if Instant::now() > deadline => {
                    return Err("chromedriver did not answer within 10 s".to_owned());
                }
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Opens a browser session: Chromium at `binary` with `args`.
    pub fn session(&self, binary: &str, args: &[&str]) -> Result<Session, String> {
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": binary, "args": args },
                    "timeouts": { "script": 120_000 }
                }
            }
        });
        let reply = request(self.addr, "POST", "/session", Some(&caps))?;
        let id = reply["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session id in {reply}"))?
            .to_owned();
        let version = reply["value"]["capabilities"]["browserVersion"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned();
        Ok(Session {
            addr: self.addr,
            id,
            version,
        })
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An open browser session.
pub struct Session {
    addr: SocketAddr,
    id: String,
    /// The browser's version, as it reported it.
    pub version: String,
}

impl Session {
    /// Loads `url` and waits for it.
    pub fn navigate(&self, url: &str) -> Result<(), String> {
        let path = format!("/session/{}/url", self.id);
        request(self.addr, "POST", &path, Some(&json!({ "url": url }))).map(drop)
    }

    /// Runs `script` as an async script: its last argument is the callback to call with the
    /// result. A script that reports `{error: …}` becomes an `Err`.
    pub fn execute_async(&self, script: &str, args: &[Value]) -> Result<Value, String> {
        let path = format!("/session/{}/execute/async", self.id);
        let reply = request(
            self.addr,
            "POST",
            &path,
            Some(&json!({ "script": script, "args": args })),
        )?;
        let value = reply["value"].clone();
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return Err(format!("in the browser: {error}"));
        }
        Ok(value)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = request(self.addr, "DELETE", &format!("/session/{}", self.id), None);
    }
}

/// One HTTP/1.1 exchange; a WebDriver error reply becomes an `Err` with its message.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, String> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connecting to chromedriver: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(180)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(|e| format!("writing to chromedriver: {e}"))?;
    // chromedriver may keep the connection open whatever the request says: read the head,
    // then exactly Content-Length bytes.
    let mut reply = Vec::new();
    let head_end = loop {
        if let Some(i) = reply.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        read_more(&mut stream, &mut reply, "reply")?;
    };
    let head = String::from_utf8_lossy(&reply[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .ok_or_else(|| format!("a reply without Content-Length: {head}"))?;
    let mut body = reply[head_end + 4..].to_vec();
    while body.len() < length {
        read_more(&mut stream, &mut body, "body")?;
    }
    let body = String::from_utf8_lossy(&body[..length]).into_owned();
    let status = head.split(' ').nth(1).unwrap_or("");
    let json: Value = serde_json::from_str(body.trim()).map_err(|e| {
        format!("chromedriver's reply to {method} {path} is not JSON ({e}): {body}")
    })?;
    if status != "200" {
        return Err(format!(
            "chromedriver: {method} {path}: {} {}",
            json["value"]["error"], json["value"]["message"]
        ));
    }
    Ok(json)
}

/// Appends what the next read gives to `buf`; an error if the connection ends `mid` it.
fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, mid: &str) -> Result<(), String> {
    let mut chunk = [0u8; 8_192];
    let n = stream
        .read(&mut chunk)
        .map_err(|e| format!("reading from chromedriver: {e}"))?;
    if n == 0 {
        return Err(format!("chromedriver closed the connection mid-{mid}"));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Serves one blank HTML page on a loopback port for as long as the process runs: a secure
/// context (`http://127.0.0.1`) where `getUserMedia` exists, which `data:` and `about:blank`
/// are not.
pub fn serve_blank_page() -> Result<String, String> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("page server: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4_096];
            let _ = stream.read(&mut buf);
            let page = "<!doctype html><title>bwe interop</title>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    Ok(format!("http://{addr}/"))
}
