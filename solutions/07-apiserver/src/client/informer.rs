//! The informer: client-go's reflector, indexer and event handlers in one.
//!
//! A controller must know the current state of the objects it manages and
//! hear of every change to them. An informer lists them once (filling its
//! [`Cache`]), then watches from the list's resourceVersion, applying each
//! event to the cache and passing on what changed. When the watch breaks
//! it resumes from the last version seen; when the server no longer has
//! that version (410 Expired) it lists again and reports the difference,
//! so the cache and the changes never miss anything for long.
//!
//! Changes go to channels ([`Informer::subscribe`]) rather than to
//! callbacks: a controller usually only needs the key of what changed
//! (it reads the rest from the cache), the channel keeps the informer's
//! task free of user code, and `while let Some(change) = changes.recv()`
//! fits tokio better than a closure that must not block. The channel is
//! unbounded, as client-go's handler buffers are: a slow consumer delays
//! only itself, never the cache. Several controllers can share one
//! informer (one list, one watch, one cache), each with its own channel,
//! as client-go's shared informers are shared.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use objects::Resource;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::api::Api;
use super::cache::{Cache, Change};
use super::watch::Backoff;
use super::{ClientError, ListParams};

/// The changes an informer reports, in the order they happened.
pub type Changes<K> = mpsc::UnboundedReceiver<Change<K>>;

/// How long each watch request lasts before the server ends it and the
/// informer resumes (client-go picks 5 to 10 minutes).
const WATCH_SECONDS: u32 = 300;

/// A cache of the objects of kind `K` that match some [`ListParams`], kept
/// current by a background task (see the module documentation).
///
/// The task stops when the informer is dropped or [`Informer::stop`]ped;
/// clones of its [`Cache`] stay readable (and stop changing).
pub struct Informer<K> {
    cache: Cache<K>,
    subscribers: Subscribers<K>,
    synced: watch::Receiver<bool>,
    last_error: Arc<Mutex<Option<String>>>,
    task: Option<JoinHandle<()>>,
}

impl<K: Resource> Informer<K> {
    /// Starts an informer (must be called within a tokio runtime).
    pub fn new(api: Api<K>, params: ListParams) -> Informer<K> {
        let cache = Cache::new();
        let subscribers = Subscribers::default();
        let (synced_sender, synced) = watch::channel(false);
        let last_error = Arc::new(Mutex::new(None));
        let reflector = Reflector {
            api,
            params,
            cache: cache.clone(),
            subscribers: subscribers.clone(),
            synced: synced_sender,
            last_error: Arc::clone(&last_error),
        };
        Informer {
            cache,
            subscribers,
            synced,
            last_error,
            task: Some(tokio::spawn(reflector.run())),
        }
    }

    /// [`Informer::new`] and [`Informer::subscribe`] in one.
    pub fn with_changes(api: Api<K>, params: ListParams) -> (Informer<K>, Changes<K>) {
        let informer = Informer::new(api, params);
        let changes = informer.subscribe();
        (informer, changes)
    }

    /// A new channel of every [`Change`] from now on: first an Added for
    /// each object already cached (none before the first list), then one
    /// change per event, and the differences each relist finds. No change
    /// is missed or doubled between the two: the snapshot and the
    /// subscription happen under the lock the informer reports under.
    /// The channel closes when the informer stops.
    pub fn subscribe(&self) -> Changes<K> {
        let (sender, receiver) = mpsc::unbounded_channel();
        let mut subscribers = self.subscribers.lock();
        for object in self.cache.list() {
            let _ = sender.send(Change::Added(object));
        }
        subscribers.push(sender);
        receiver
    }

    /// A read handle on the cache: cheap to clone, always current.
    pub fn cache(&self) -> Cache<K> {
        self.cache.clone()
    }

    /// Whether the first list has been stored: before that, an empty
    /// cache means "not known yet", not "there are none".
    pub fn has_synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// Waits until [`Informer::has_synced`], and says whether it is: false
    /// only if the informer's task died (a panic) before its first list.
    /// It waits as long as the server cannot be listed: wrap it in a
    /// timeout, and see [`Informer::last_error`].
    pub async fn wait_for_sync(&self) -> bool {
        let mut synced = self.synced.clone();
        synced.wait_for(|synced| *synced).await.is_ok()
    }

    /// The last error the informer met (it keeps trying after errors).
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops the informer and waits until its task (and its connection)
    /// is gone.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl<K> Drop for Informer<K> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The channels changes go to.
struct Subscribers<K>(Arc<Mutex<Vec<mpsc::UnboundedSender<Change<K>>>>>);

impl<K> Clone for Subscribers<K> {
    fn clone(&self) -> Self {
        Subscribers(Arc::clone(&self.0))
    }
}

impl<K> Default for Subscribers<K> {
    fn default() -> Self {
        Subscribers(Arc::default())
    }
}

impl<K> Subscribers<K> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<Change<K>>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sends `changes` to every subscriber still listening.
fn report<K: Clone>(
    subscribers: &mut Vec<mpsc::UnboundedSender<Change<K>>>,
    changes: Vec<Change<K>>,
) {
    for change in changes {
        subscribers.retain(|subscriber| subscriber.send(change.clone()).is_ok());
    }
}

/// The background task: list, watch, apply, report.
struct Reflector<K> {
    api: Api<K>,
    params: ListParams,
    cache: Cache<K>,
    subscribers: Subscribers<K>,
    synced: watch::Sender<bool>,
    last_error: Arc<Mutex<Option<String>>>,
}

impl<K: Resource> Reflector<K> {
    // ANCHOR: run
    async fn run(self) {
        let mut backoff = Backoff::new();
        let watch_params = ListParams {
            timeout_seconds: Some(self.params.timeout_seconds.unwrap_or(WATCH_SECONDS)),
            ..self.params.clone()
        };
        loop {
            let version = match self.relist().await {
                Ok(version) => version,
                Err(error) => {
                    self.note(&error);
                    tokio::time::sleep(backoff.next_delay()).await;
                    continue;
                }
            };
            // Ends only on 410 Expired: then list again.
            let mut events = self.api.watch_resuming(&watch_params, &version);
            let mut progressed = false;
            while let Some(item) = events.next().await {
                match item {
                    Ok(event) => {
                        progressed = true;
                        // Under the lock: see Informer::subscribe.
                        let mut subscribers = self.subscribers.lock();
                        let change = self.cache.apply(event);
                        report(&mut subscribers, change.into_iter().collect());
                    }
                    Err(error) => self.note(&error),
                }
            }
            // A list whose version is already too old to watch from (a
            // server with a short history under heavy writes) must not
            // turn into a tight loop of lists.
            if progressed {
                backoff.reset();
            } else {
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
    // ANCHOR_END: run

    /// Lists everything (no paging, the latest version), replaces the
    /// cache, reports the differences; returns the list's version.
    async fn relist(&self) -> Result<String, ClientError> {
        let params = ListParams {
            resource_version: None,
            limit: None,
            continue_token: None,
            timeout_seconds: None,
            ..self.params.clone()
        };
        let list = self.api.list(&params).await?;
        let mut subscribers = self.subscribers.lock();
        let changes = self.cache.replace(list.items);
        report(&mut subscribers, changes);
        drop(subscribers);
        self.synced.send_replace(true);
        Ok(list.metadata.resource_version.unwrap_or_default())
    }

    fn note(&self, error: &ClientError) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error.to_string());
    }
}
