//! The bytes on disk, shared by the log and the snapshot.
//!
//! Everything is a *frame*, so that a reader can tell a complete, intact
//! record from a torn or garbled one without trusting anything inside it:
//!
//! ```text
//! frame   = len: u32 LE | crc: u32 LE | payload (len bytes)
//!           crc is the CRC-32 (IEEE) of the payload
//! record  = revision: u64 LE | create_revision: u64 LE | kind: u8 | key_len: u32 LE | key | value
//!           kind 1 = put (value = the rest of the payload), 2 = delete (no value)
//! log payload      = batch: u64 LE | record
//!           batch is the revision of the first record of the same group
//!           commit (one write, one fdatasync, then the acknowledgements)
//! snapshot payload = record (a put whose revision is the key's mod revision)
//! ```
//!
//! Why the log records carry their batch: a crash can only tear the batch
//! that was being written, which nobody was told about yet (the answers
//! wait for the fdatasync). Recovery may cut that batch off, and only that
//! one. A torn write can leave a hole anywhere in the batch, with later
//! sectors of the *same* batch intact after it; an intact frame of a
//! *later* batch after a hole, though, proves that the hole is in a batch
//! that was synced and acknowledged: damage, not a torn tail.
//! Integers are little-endian.

use std::sync::Arc;

use super::{Change, ChangeKind, Entry, Revision};

/// Bytes before the payload: its length and its checksum.
pub const HEADER: usize = 8;
/// The smallest payload: two revisions, the kind and the key's length.
const MIN_PAYLOAD: usize = 8 + 8 + 1 + 4;
const PUT: u8 = 1;
const DELETE: u8 = 2;

/// One write, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub revision: Revision,
    pub create_revision: Revision,
    pub key: String,
    /// `None` for a deletion.
    pub value: Option<Arc<[u8]>>,
}

impl Record {
    pub fn of(change: &Change) -> Record {
        Record {
            revision: change.entry.mod_revision,
            create_revision: change.entry.create_revision,
            key: change.key.clone(),
            value: (change.kind != ChangeKind::Deleted).then(|| change.entry.value.clone()),
        }
    }

    /// A snapshot entry: the key's current value as a put.
    pub fn entry(key: &str, entry: &Entry) -> Record {
        Record {
            revision: entry.mod_revision,
            create_revision: entry.create_revision,
            key: key.to_string(),
            value: Some(entry.value.clone()),
        }
    }

    /// Appends the record's frame to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let value = self.value.as_deref().unwrap_or_default();
        let mut payload = Vec::with_capacity(MIN_PAYLOAD + self.key.len() + value.len());
        self.encode_payload(&mut payload);
        frame(&payload, out);
    }

    fn encode_payload(&self, payload: &mut Vec<u8>) {
        let value = self.value.as_deref().unwrap_or_default();
        payload.extend_from_slice(&self.revision.to_le_bytes());
        payload.extend_from_slice(&self.create_revision.to_le_bytes());
        payload.push(if self.value.is_some() { PUT } else { DELETE });
        payload.extend_from_slice(&(self.key.len() as u32).to_le_bytes());
        payload.extend_from_slice(self.key.as_bytes());
        payload.extend_from_slice(value);
    }

    /// Appends the record's log frame: the record behind the first
    /// revision of its batch.
    pub fn encode_logged(&self, batch: Revision, out: &mut Vec<u8>) {
        let value = self.value.as_deref().unwrap_or_default();
        let mut payload = Vec::with_capacity(8 + MIN_PAYLOAD + self.key.len() + value.len());
        payload.extend_from_slice(&batch.to_le_bytes());
        self.encode_payload(&mut payload);
        frame(&payload, out);
    }

    /// Reads a log payload back: the batch it belongs to and the record.
    pub fn decode_logged(payload: &[u8]) -> Option<(Revision, Record)> {
        let (batch, rest) = take_u64(payload)?;
        Some((batch, Record::decode(rest)?))
    }

    /// Reads a payload back; `None` if it does not hold a record (a frame
    /// whose checksum matched by chance, or a writer of another format).
    pub fn decode(payload: &[u8]) -> Option<Record> {
        let (revision, rest) = take_u64(payload)?;
        let (create_revision, rest) = take_u64(rest)?;
        let (&kind, rest) = rest.split_first()?;
        let (key_len, rest) = rest.split_at_checked(4)?;
        let key_len = u32::from_le_bytes(key_len.try_into().ok()?) as usize;
        let (key, value) = rest.split_at_checked(key_len)?;
        let key = std::str::from_utf8(key).ok()?.to_string();
        let value = match kind {
            PUT => Some(Arc::from(value)),
            DELETE if value.is_empty() => None,
            _ => return None,
        };
        Some(Record {
            revision,
            create_revision,
            key,
            value,
        })
    }
}

fn take_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let (head, rest) = bytes.split_at_checked(8)?;
    Some((u64::from_le_bytes(head.try_into().ok()?), rest))
}

/// Appends `payload` to `out` behind its length and checksum.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

// ANCHOR: unframe
/// The payload of the frame at the start of `bytes` and the frame's whole
/// length, or `None` when there is no intact frame there: too few bytes for
/// the header or for the length it announces (a torn write), an impossible
/// length, or a checksum that does not match (garbled bytes).
pub fn unframe(bytes: &[u8]) -> Option<(&[u8], usize)> {
    // exercise 3: the payload of the frame at the start of `bytes` and the frame's whole length, or None if it is not intact
    // hint: A frame is a fixed-size header (the payload's length, then its CRC-32 checksum, both u32 little-endian) followed by the payload; `frame` above writes one. Reading must distrust every byte: the file may end in a torn write or hold garbage.
    // hint: `bytes.get(range)` returns None instead of panicking when too few bytes are there, which is what a torn write looks like. `u32::from_le_bytes` decodes the header. Refuse a length below MIN_PAYLOAD and a payload whose `crc32fast::hash` is not the header's checksum.
    // hint: header = bytes.get(..HEADER)?; len = u32::from_le_bytes(header[..4]) as usize; crc = u32::from_le_bytes(header[4..]); if len < MIN_PAYLOAD return None; payload = bytes.get(HEADER..HEADER.checked_add(len)?)?; (crc32fast::hash(payload) == crc).then_some((payload, HEADER + len)).
    let header = bytes.get(..HEADER)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    if len < MIN_PAYLOAD {
        return None;
    }
    let payload = bytes.get(HEADER..HEADER.checked_add(len)?)?;
    (crc32fast::hash(payload) == crc).then_some((payload, HEADER + len))
}
// ANCHOR_END: unframe

/// The batch of the intact log frame at the start of `bytes`, whatever its
/// record holds: enough to tell which group commit wrote it.
pub fn logged_batch(bytes: &[u8]) -> Option<Revision> {
    let (payload, _) = unframe(bytes)?;
    Some(take_u64(payload)?.0)
}

/// Every intact record at the start of `bytes`, and how many bytes they
/// take: reading stops at the first frame that is torn, garbled or not a
/// record.
pub fn read_all(bytes: &[u8]) -> (Vec<Record>, usize) {
    let mut records = Vec::new();
    let mut offset = 0;
    while let Some((payload, len)) = unframe(&bytes[offset..]) {
        let Some(record) = Record::decode(payload) else {
            break;
        };
        records.push(record);
        offset += len;
    }
    (records, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(revision: Revision, key: &str, value: &str) -> Record {
        Record {
            revision,
            create_revision: 1,
            key: key.into(),
            value: Some(value.as_bytes().into()),
        }
    }

    #[test]
    fn records_round_trip() {
        let records = vec![
            put(1, "/a", "{}"),
            Record {
                revision: 2,
                create_revision: 1,
                key: "/a".into(),
                value: None,
            },
            put(3, "/b", ""),
        ];
        let mut bytes = Vec::new();
        for record in &records {
            record.encode(&mut bytes);
        }
        assert_eq!(read_all(&bytes), (records, bytes.len()));
    }

    #[test]
    fn a_torn_or_garbled_frame_ends_the_log() {
        let mut bytes = Vec::new();
        put(1, "/a", "one").encode(&mut bytes);
        let first = bytes.len();
        put(2, "/b", "two").encode(&mut bytes);
        for cut in first..bytes.len() {
            assert_eq!(read_all(&bytes[..cut]).1, first, "cut at {cut}");
        }
        for flip in first..bytes.len() {
            let mut garbled = bytes.clone();
            garbled[flip] ^= 0x40;
            assert_eq!(read_all(&garbled).1, first, "byte {flip} flipped");
        }
        // Zeroes (a preallocated tail) are no record either.
        let mut zeroes = bytes[..first].to_vec();
        zeroes.extend_from_slice(&[0; 64]);
        assert_eq!(read_all(&zeroes).1, first);
    }
}
