// Generated from solutions/07-apiserver/src/client/cache.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The informer's local copy of the objects it watches.
//!
//! Controllers read far more than they write: "which pods does this
//! replica set own?" is asked on every reconcile. Asking the API server
//! each time would load it in proportion to the number of controllers;
//! reading a local copy, kept current by one watch, costs nothing. The
//! copy is shared (`Arc`) and handed out as `Arc<K>`: readers must not
//! change what they read, they send changes to the server and see them
//! come back through the watch.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use objects::{Resource, Selector, WatchEvent, WatchEventType};

/// An object's identity in a cache: namespace (`""` for cluster-scoped
/// kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn of<K: Resource>(object: &K) -> ObjectKey {
        let meta = object.metadata();
        ObjectKey {
            namespace: meta.namespace().to_string(),
            name: meta.name().to_string(),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// A difference between the cache before and after an event or a relist:
/// what an informer's handlers hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<K> {
    Added(Arc<K>),
    Updated {
        old: Arc<K>,
        new: Arc<K>,
    },
    /// The object's last known state: from a DELETED event, the state the
    /// server deleted; from a relist, the state cached before.
    Deleted(Arc<K>),
}

impl<K: Resource> Change<K> {
    /// The object as it is now (for a deletion: as it was last).
    pub fn object(&self) -> &Arc<K> {
        match self {
            Change::Added(object) | Change::Deleted(object) => object,
            Change::Updated { new, .. } => new,
        }
    }

    pub fn key(&self) -> ObjectKey {
        ObjectKey::of(self.object().as_ref())
    }
}

/// The objects of one kind, by namespace and name. Cheap to clone: clones
/// share the same objects.
#[derive(Debug)]
pub struct Cache<K> {
    objects: Arc<RwLock<BTreeMap<ObjectKey, Arc<K>>>>,
}

impl<K> Clone for Cache<K> {
    fn clone(&self) -> Self {
        Cache {
            objects: Arc::clone(&self.objects),
        }
    }
}

impl<K> Default for Cache<K> {
    fn default() -> Self {
        Cache {
            objects: Arc::default(),
        }
    }
}

impl<K: Resource> Cache<K> {
    pub fn new() -> Cache<K> {
        Cache::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<ObjectKey, Arc<K>>> {
        // A panic while holding the lock cannot leave the map half-changed
        // (every change is one insert or remove), so a poisoned lock is usable.
        self.objects.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<ObjectKey, Arc<K>>> {
        self.objects.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The object `name` in `namespace` (`""` for cluster-scoped kinds).
    pub fn get(&self, namespace: &str, name: &str) -> Option<Arc<K>> {
        let key = ObjectKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        self.read().get(&key).cloned()
    }

    /// Every object, by namespace then name.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().values().cloned().collect()
    }

    /// The objects in `namespace`.
    pub fn list_namespace(&self, namespace: &str) -> Vec<Arc<K>> {
        self.read()
            .iter()
            .filter(|(key, _)| key.namespace == namespace)
            .map(|(_, object)| Arc::clone(object))
            .collect()
    }

    /// The objects whose labels match `selector`, in `namespace` if given.
    pub fn list_matching(&self, namespace: Option<&str>, selector: &Selector) -> Vec<Arc<K>> {
        self.read()
            .iter()
            .filter(|(key, _)| namespace.is_none_or(|ns| key.namespace == ns))
            .filter(|(_, object)| selector.matches(&object.metadata().labels))
            .map(|(_, object)| Arc::clone(object))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    // ANCHOR: apply
    /// Applies one watch event and says what changed: ADDED and MODIFIED
    /// store the object (an Added if it was unknown, an Updated with the
    /// previous state if not), DELETED removes it (and reports the
    /// object as the event has it: its final state, at the version of
    /// the deletion), BOOKMARK and ERROR change nothing.
    pub fn apply(&self, event: WatchEvent<K>) -> Option<Change<K>> {
        todo!("exercise 6: apply one watch event to the cache and say what changed, if anything")
    }
    // ANCHOR_END: apply

    // ANCHOR: replace
    /// Replaces the whole content with a fresh list and says what changed
    /// since: objects that are new (Added), gone (Deleted, with their last
    /// state), or at another resourceVersion (Updated). Unchanged objects
    /// make no noise. This is how an informer catches up after a 410, when
    /// the events in between are lost for good.
    pub fn replace(&self, items: Vec<K>) -> Vec<Change<K>> {
        let fresh: BTreeMap<ObjectKey, Arc<K>> = items
            .into_iter()
            .map(|object| (ObjectKey::of(&object), Arc::new(object)))
            .collect();
        let mut objects = self.write();
        let mut changes = Vec::new();
        for (key, old) in objects.iter() {
            if !fresh.contains_key(key) {
                changes.push(Change::Deleted(Arc::clone(old)));
            }
        }
        for (key, new) in &fresh {
            match objects.get(key) {
                None => changes.push(Change::Added(Arc::clone(new))),
                Some(old) if old.metadata().resource_version != new.metadata().resource_version => {
                    changes.push(Change::Updated {
                        old: Arc::clone(old),
                        new: Arc::clone(new),
                    })
                }
                Some(_) => {}
            }
        }
        *objects = fresh;
        changes
    }
    // ANCHOR_END: replace
}
