//! # nsbootstrap-codec
//!
//! A sans-IO codec for the namespace-bootstrap message: the netlink-formatted message a container runtime
//! sends to runc's `runc init` (nsexec) and to other executors of the same protocol. Bytes in, typed plan
//! out, and back; no system calls, no panics on any input. `spec/PROTOCOL.md` is the normative text; the
//! section numbers in this crate's docs refer to it.
//!
//! * [`MessageView::decode`] checks a message in a [`Dialect`] with [`Mode::Strict`] (the default) or
//!   [`Mode::Lenient`] (what runc's C decoder accepts) and borrows from the input without allocating.
//! * [`BootstrapPlan`] is the owned plan, with a builder, serde support (the JSON shape of spec section 18)
//!   and, behind the `arbitrary` feature, structured generation for fuzzers.
//! * [`BootstrapPlan::encode`] writes the canonical message, byte for byte what runc's Go encoder writes for
//!   the same content, into a caller's buffer; it refuses a plan that breaks spec section 8 or names
//!   another dialect.
//! * [`MessageReader`] takes a stream in pieces of any size and never reads past the message.
//! * [`explain()`] prints an annotated dump; [`PidReport`] and [`sync`] cover the rest of the wire.
//! * Errors per audience: [`DecodeError`], [`EncodeError`], [`PlanError`], each with the spec's class.
//!
//! ```
//! use nsbootstrap_codec::{BootstrapPlan, Dialect, MessageView, Mode, NamespaceKind};
//!
//! let plan = BootstrapPlan::builder()
//!     .create(NamespaceKind::User)
//!     .create(NamespaceKind::Pid)
//!     .map_user(0, 100000, 65536)
//!     .map_group(0, 100000, 65536)
//!     .build();
//! let bytes = plan.to_bytes(Dialect::Runc12)?;
//! let view = MessageView::decode(&bytes, Dialect::Runc12, Mode::Strict)?;
//! assert_eq!(view.uid_map().unwrap().ranges().count(), 1);
//! assert_eq!(BootstrapPlan::from_view(&view), plan);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Layers
//!
//! Each module imports only from the layers below it:
//!
//! 1. `wire` (header, attribute numbers, alignment, limits, the writer sink), `dialect`, `namespace`;
//! 2. `attribute` (the table of spec section 4 as data), `error`;
//! 3. `text` (grammar pieces) and `payload`: one module per payload (`clone_flags`, `ns_paths`,
//!    `id_map`, `bools`, `oom`, `path`, `mount_sources`, `time_offsets`), each with its grammar, its
//!    checks and its canonical writer side by side;
//! 4. `walk` (the one attribute iterator), `message` (the view), `plan`, `encode`;
//! 5. `reader`, `explain`, `report`, `sync`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod wire;

mod attribute;
pub mod dialect;
mod error;
mod namespace;

mod payload;
mod text;

mod encode;
mod message;
mod plan;
mod walk;

mod explain;
mod reader;
mod report;
pub mod setup;
pub mod sync;

#[cfg(feature = "arbitrary")]
mod arbitrary_plan;

pub use attribute::{Attribute, PayloadType};
pub use dialect::Dialect;
pub use error::{DecodeError, EncodeError, PlanError, Problem};
pub use explain::explain;
pub use message::MessageView;
pub use namespace::{CloneFlags, NamespaceKind};
pub use payload::id_map::IdRange;
pub use payload::ns_paths::NamespacePath;
pub use payload::time_offsets::{Clock, TimeOffset};
pub use plan::{BootstrapPlan, PlanBuilder};
pub use reader::MessageReader;
pub use report::PidReport;
pub use text::Mode;

/// The borrowed payload views [`MessageView`]'s accessors return, the error details, and the plan's
/// netlink fields: named types a caller rarely spells out.
pub mod types {
    pub use crate::attribute::{Row, COUNT, TABLE};
    pub use crate::error::Snippet;
    pub use crate::namespace::{
        CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME,
        CLONE_NEWUSER, CLONE_NEWUTS,
    };
    pub use crate::payload::id_map::IdMapRef;
    pub use crate::payload::mount_sources::MountSources;
    pub use crate::payload::ns_paths::{NamespacePathRef, NamespacePaths};
    pub use crate::payload::time_offsets::TimeOffsetsRef;
    pub use crate::plan::NetlinkFields;
    pub use crate::report::BadReport;
    pub use crate::walk::{Attrs, RawAttr};
}

/// Decodes exactly one message strictly into an owned plan (shorthand for [`BootstrapPlan::decode`]).
pub fn decode(bytes: &[u8], dialect: Dialect) -> Result<BootstrapPlan, DecodeError> {
    BootstrapPlan::decode(bytes, dialect)
}
