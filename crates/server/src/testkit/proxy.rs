//! A TCP proxy between client and server that misbehaves on demand: refuses, resets,
//! delays, or cuts a request or response mid-body. Switching the mode also cuts every
//! connection already open, so pooled keep-alive connections feel the change too.

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
    upstream: SocketAddr,
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
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State { upstream, mode: Mode::Pass }));
        let (generation, _) = watch::channel(0u64);
        let task = {
            let state = state.clone();
            let generation = generation.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else { return };
                    let (upstream, mode) = {
                        let s = state.lock().unwrap();
                        (s.upstream, s.mode)
                    };
                    let mut changed = generation.subscribe();
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = serve(client, upstream, mode) => {}
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
        self.state.lock().unwrap().upstream = upstream;
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, mode: Mode) {
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

/// Copies both ways; stops a direction after its byte budget, which cuts the connection.
async fn pipe(client: TcpStream, upstream: SocketAddr, request_budget: Option<usize>, response_budget: Option<usize>) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
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
