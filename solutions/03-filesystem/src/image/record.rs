use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ImageConfig, ImageError};

/// The file beside an image's `rootfs/` that describes it.
pub(crate) const RECORD_FILE: &str = "image.json";

/// What the store knows about one image, kept as JSON beside its rootfs.
/// Written before the image is moved into place, so an image that is
/// visible always has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub name: String,
    pub config: ImageConfig,
    /// RFC 3339, UTC.
    pub imported_at: String,
    /// Bytes of the regular files.
    pub size: u64,
    /// Entries other than directories: files, symlinks.
    pub files: u64,
    /// Where a built-in image came from, to tell whether it is up to date.
    #[serde(default)]
    pub origin: Option<Stamp>,
}

/// Identifies the version of a file a built-in image was made from: when
/// the program is rebuilt, its size or modification time changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    pub source: PathBuf,
    pub size: u64,
    pub modified_ns: i128,
    /// Bumped when the way built-in images are made changes.
    pub recipe: u32,
}

impl Record {
    pub fn read(name: &str, image_dir: &Path) -> Result<Record, ImageError> {
        let path = image_dir.join(RECORD_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(ImageError::NotFound {
                    name: name.to_string(),
                });
            }
            Err(error) => return Err(ImageError::io("read", &path)(error)),
        };
        serde_json::from_str(&text).map_err(|error| ImageError::Damaged {
            name: name.to_string(),
            path,
            reason: error.to_string(),
        })
    }

    pub fn write(&self, image_dir: &Path) -> Result<(), ImageError> {
        let path = image_dir.join(RECORD_FILE);
        let json = serde_json::to_string_pretty(self).expect("a record is always valid JSON");
        std::fs::write(&path, json + "\n").map_err(ImageError::io("write", path))
    }
}
