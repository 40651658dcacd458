//! A TCP proxy a test can cut and restore, to play a store (or any server)
//! that goes away and comes back: while cut, every open connection through it
//! is closed and new ones are refused, as when PostgreSQL stops; restored, it
//! forwards again on the same port. The server behind it is real.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct TcpProxy {
    pub addr: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl TcpProxy {
    /// Forwards a new local port to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<TcpProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = TcpProxy {
            addr: listener.local_addr()?,
            target,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        Ok(proxy)
    }

    /// A proxy in front of the server named by a `scheme://user@host:port/...`
    /// URL, and the same URL pointing at the proxy instead.
    pub async fn in_front_of(url: &str) -> (TcpProxy, String) {
        let host_port = url
            .split('@')
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("host and port in the URL");
        let target = tokio::net::lookup_host(host_port)
            .await
            .expect("resolves")
            .next()
            .expect("an address");
        let proxy = TcpProxy::start(target).await.expect("the proxy starts");
        let through = url.replacen(host_port, &proxy.addr.to_string(), 1);
        (proxy, through)
    }

    /// Closes every connection and stops listening (connections are refused).
    pub fn cut(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&self) -> std::io::Result<()> {
        let listener = TcpListener::bind(self.addr).await?;
        self.serve(listener);
        Ok(())
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target, self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                lock(&tasks).push(pipe);
            }
        });
        lock(&self.tasks).push(accept);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
