//! Single-flight: concurrent callers with the same key share one execution
//! (one upstream fetch, one scan). The work runs in its own task, so a client
//! that disconnects does not cancel it for the others.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub struct Flights<T> {
    map: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T> Default for Flights<T> {
    fn default() -> Self {
        Flights {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Flights<T> {
    /// Runs `work` unless a run for `key` is already under way, in which case
    /// its result is awaited instead. `failed` turns a panicked task into a `T`.
    pub async fn run<F, Fut>(&self, key: &str, work: F, failed: fn(String) -> T) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T> + Send + 'static,
    {
        let cell = {
            let mut map = self.map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            map.entry(key.to_string()).or_default().clone()
        };
        let value = cell
            .get_or_init(|| async {
                match tokio::spawn(work()).await {
                    Ok(value) => value,
                    Err(error) => failed(error.to_string()),
                }
            })
            .await
            .clone();
        let mut map = self.map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if map.get(key).is_some_and(|current| Arc::ptr_eq(current, &cell)) {
            map.remove(key);
        }
        value
    }

    pub fn in_flight(&self) -> usize {
        self.map.lock().map(|map| map.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_run() {
        let flights: Arc<Flights<usize>> = Arc::new(Flights::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let flights = flights.clone();
            let runs = runs.clone();
            tasks.push(tokio::spawn(async move {
                flights
                    .run(
                        "k",
                        move || async move {
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            runs.fetch_add(1, Ordering::SeqCst) + 1
                        },
                        |_| 0,
                    )
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task"), 1);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(flights.in_flight(), 0);
    }
}
