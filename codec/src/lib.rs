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
//!   the same content, into a caller's buffer.
//! * [`MessageReader`] takes a stream in pieces of any size and never reads past the message.
//! * [`explain()`] prints an annotated dump; [`PidReport`] and [`Sync`] cover the rest of the wire.
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
//! # Ok::<(), nsbootstrap_codec::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attribute;
mod dialect;
mod encode;
mod error;
mod explain;
mod idmap;
mod message;
mod mounts;
mod namespace;
mod nspaths;
mod plan;
mod reader;
mod report;
mod sync;
mod text;
mod timens;

#[cfg(feature = "arbitrary")]
mod arbitrary_plan;

pub use attribute::{number, Attribute, PayloadType, INIT_MSG};
pub use dialect::{Attr27290, CgroupNs, Dialect, JoinOrder, ReportShape, UnknownDialect};
pub use encode::MAX_PAYLOAD;
pub use error::{Error, PlanRule, Problem, Snippet};
pub use explain::explain;
pub use idmap::{IdMapRef, IdRange};
pub use message::{Header, MessageView, Slot, HEADER_LEN, NLM_F_REQUEST};
pub use mounts::MountSources;
pub use namespace::{
    CloneFlags, NamespaceKind, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS,
    CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS,
};
pub use nspaths::{NamespacePath, NamespacePathRef, NamespacePaths};
pub use plan::{BootstrapPlan, NetlinkFields, PlanBuilder};
pub use reader::MessageReader;
pub use report::{BadReport, PidReport};
pub use sync::{Sync, CREATE_CGROUP_NS, GO_AHEAD};
pub use text::Mode;
pub use timens::{Clock, TimeOffset, TimeOffsetsRef};

/// The largest `nlmsg_len` a decoder accepts (spec section 17).
pub const MAX_MESSAGE_LEN: u32 = 1 << 20;
/// The longest path, in bytes, without its NUL (`PATH_MAX` - 1).
pub const MAX_PATH: usize = 4095;
/// The most ranges an id map may have (the kernel's limit since Linux 4.15).
pub const MAX_ID_RANGES: usize = 340;

/// Decodes exactly one message strictly into an owned plan (shorthand for [`BootstrapPlan::decode`]).
pub fn decode(bytes: &[u8], dialect: Dialect) -> Result<BootstrapPlan, Error> {
    BootstrapPlan::decode(bytes, dialect)
}
