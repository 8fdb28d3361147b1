//! A TCP proxy between client and server that misbehaves on demand: refuses, resets,
//! delays, or cuts a request or response mid-body. Switching the mode also cuts every
//! connection already open, so pooled keep-alive connections feel the change too.
//!
//! With several upstreams it is a round-robin load balancer at the TCP level: each new
//! connection goes to the next upstream, and one that refuses the connection (a replica
//! that died) is skipped for the next, as a balancer's health check would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Pass,
    /// Accept and close at once: "connection closed".
    Refuse,
    /// Accept and reset (RST): "connection reset by peer".
    Reset,
    /// Pass, after holding the connection this long.
    Delay(Duration),
    /// Forward this many bytes of the request, then cut both sides.
    CutRequestAfter(usize),
    /// Forward the whole request and this many bytes of the response, then cut.
    CutResponseAfter(usize),
}

struct State {
    upstreams: Vec<SocketAddr>,
    /// The upstream the next connection tries first.
    next: usize,
    mode: Mode,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    generation: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        Self::start_balanced(vec![upstream]).await
    }

    /// A round-robin balancer over `upstreams` (see the module docs).
    pub async fn start_balanced(upstreams: Vec<SocketAddr>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State { upstreams, next: 0, mode: Mode::Pass }));
        let (generation, _) = watch::channel(0u64);
        let task = {
            let state = state.clone();
            let generation = generation.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else { return };
                    let (upstreams, mode) = {
                        let mut s = state.lock().unwrap();
                        let n = s.upstreams.len().max(1);
                        let first = s.next % n;
                        s.next = s.next.wrapping_add(1);
                        let mut order = s.upstreams.clone();
                        let len = order.len();
                        order.rotate_left(first.min(len));
                        (order, s.mode)
                    };
                    let mut changed = generation.subscribe();
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = serve(client, upstreams, mode) => {}
                            _ = changed.changed() => {}
                        }
                    });
                }
            })
        };
        FaultProxy { addr, state, generation, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn set_upstream(&self, upstream: SocketAddr) {
        self.state.lock().unwrap().upstreams = vec![upstream];
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

async fn serve(client: TcpStream, upstream: Vec<SocketAddr>, mode: Mode) {
    match mode {
        Mode::Refuse => drop(client),
        Mode::Reset => {
            // Zero linger aborts at once (an RST); it cannot block.
            #[allow(deprecated)]
            let _ = client.set_linger(Some(Duration::ZERO));
            drop(client);
        }
        Mode::Delay(d) => {
            tokio::time::sleep(d).await;
            pipe(client, upstream, None, None).await
        }
        Mode::Pass => pipe(client, upstream, None, None).await,
        Mode::CutRequestAfter(n) => pipe(client, upstream, Some(n), None).await,
        Mode::CutResponseAfter(n) => pipe(client, upstream, None, Some(n)).await,
    }
}

/// Connects to the first upstream that accepts, then copies both ways; stops a direction
/// after its byte budget, which cuts the connection.
async fn pipe(client: TcpStream, upstreams: Vec<SocketAddr>, request_budget: Option<usize>, response_budget: Option<usize>) {
    let mut server = None;
    for upstream in upstreams {
        if let Ok(s) = TcpStream::connect(upstream).await {
            server = Some(s);
            break;
        }
    }
    let Some(server) = server else { return };
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async {
        copy_limited(&mut cr, &mut sw, request_budget).await;
    };
    let down = async {
        copy_limited(&mut sr, &mut cw, response_budget).await;
    };
    // When either direction stops (closed or cut), the whole connection goes.
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

async fn copy_limited<R: AsyncReadExt + Unpin, W: AsyncWriteExt + Unpin>(from: &mut R, to: &mut W, budget: Option<usize>) {
    let mut left = budget.unwrap_or(usize::MAX);
    let mut buf = vec![0u8; 16 * 1024];
    while left > 0 {
        let want = buf.len().min(left);
        let n = match from.read(&mut buf[..want]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        left -= n;
    }
}
