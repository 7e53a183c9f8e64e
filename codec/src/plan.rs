//! The owned, typed plan: what a runtime asks an executor to do. Builders for runtime authors, serde for JSON.

use crate::attribute::Attribute;
use crate::dialect::Dialect;
use crate::error::{DecodeError, PlanError};
use crate::message::MessageView;
use crate::namespace::{CloneFlags, NamespaceKind};
use crate::payload::id_map::IdRange;
use crate::payload::ns_paths::NamespacePath;
use crate::payload::time_offsets::{Clock, TimeOffset};
use crate::wire::NLM_F_REQUEST;
use std::path::PathBuf;

/// The netlink header fields that carry no meaning but are kept so that decode and encode are byte-exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct NetlinkFields {
    /// `nlmsg_flags` (default `NLM_F_REQUEST`).
    pub flags: u16,
    /// `nlmsg_seq` (default 1).
    pub seq: u32,
    /// `nlmsg_pid` (default 0).
    pub pid: u32,
}

impl Default for NetlinkFields {
    fn default() -> Self {
        NetlinkFields {
            flags: NLM_F_REQUEST,
            seq: 1,
            pid: 0,
        }
    }
}

/// Everything a bootstrap message can say. `None` (or an empty list where noted) means the attribute is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct BootstrapPlan {
    /// The dialect this plan is meant for, when it says (JSON `"dialect"`): [`BootstrapPlan::encode`] then
    /// refuses to encode it in any other dialect ([`crate::EncodeError::DialectMismatch`]).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub dialect: Option<Dialect>,
    /// Header fields.
    #[cfg_attr(feature = "serde", serde(default))]
    pub netlink: NetlinkFields,
    /// Namespaces to create (27281). Always sent by an encoder.
    #[cfg_attr(feature = "serde", serde(default, with = "clone_flags_serde"))]
    pub clone_flags: CloneFlags,
    /// Namespaces to join (27282); empty = absent.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub namespace_paths: Vec<NamespacePath>,
    /// newuidmap helper (27288).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub newuidmap_path: Option<PathBuf>,
    /// uid map (27283).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub uid_map: Option<Vec<IdRange>>,
    /// gid map (27284).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub gid_map: Option<Vec<IdRange>>,
    /// newgidmap helper (27289).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub newgidmap_path: Option<PathBuf>,
    /// Whether setgroups(2) stays allowed (27285).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub setgroups: Option<bool>,
    /// oom_score_adj (27286).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub oom_score_adj: Option<i32>,
    /// Whether the runtime runs with a non-root euid (27287).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub rootless_euid: Option<bool>,
    /// Bind-mount sources (27290 in runc-1.1); `None` entries are mounts without a source.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub mount_sources: Option<Vec<Option<PathBuf>>>,
    /// Time-namespace offsets (27290 in runc-1.2 and nsbootstrap-1).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub time_offsets: Option<Vec<TimeOffset>>,
    /// Console path (27400 in nsbootstrap-1).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub console_path: Option<PathBuf>,
}

impl BootstrapPlan {
    /// An empty plan: no namespace created or joined.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder.
    pub fn builder() -> PlanBuilder {
        PlanBuilder::default()
    }

    /// An owned plan from a decoded view.
    pub fn from_view(view: &MessageView<'_>) -> Self {
        let h = view.header();
        BootstrapPlan {
            dialect: None,
            netlink: NetlinkFields {
                flags: h.flags,
                seq: h.seq,
                pid: h.pid,
            },
            clone_flags: view.clone_flags(),
            namespace_paths: view
                .namespace_paths()
                .map(|p| p.iter().map(|e| e.to_owned()).collect())
                .unwrap_or_default(),
            newuidmap_path: view.newuidmap_path().map(PathBuf::from),
            uid_map: view.uid_map().map(|m| m.ranges().collect()),
            gid_map: view.gid_map().map(|m| m.ranges().collect()),
            newgidmap_path: view.newgidmap_path().map(PathBuf::from),
            setgroups: view.setgroups(),
            oom_score_adj: view.oom_score_adj(),
            rootless_euid: view.rootless_euid(),
            mount_sources: view
                .mount_sources()
                .map(|m| m.iter().map(|p| p.map(PathBuf::from)).collect()),
            time_offsets: view.time_offsets().map(|t| t.iter().collect()),
            console_path: view.console_path().map(PathBuf::from),
        }
    }

    /// Decodes `bytes` (exactly one message) strictly into an owned plan.
    pub fn decode(bytes: &[u8], dialect: Dialect) -> Result<Self, DecodeError> {
        MessageView::decode(bytes, dialect, crate::text::Mode::Strict).map(|v| Self::from_view(&v))
    }

    /// Whether the plan sets `attr` (clone flags are always sent).
    pub fn has(&self, attr: Attribute) -> bool {
        match attr {
            Attribute::CloneFlags => true,
            Attribute::NamespacePaths => !self.namespace_paths.is_empty(),
            Attribute::NewuidmapPath => self.newuidmap_path.is_some(),
            Attribute::UidMap => self.uid_map.is_some(),
            Attribute::GidMap => self.gid_map.is_some(),
            Attribute::NewgidmapPath => self.newgidmap_path.is_some(),
            Attribute::Setgroups => self.setgroups.is_some(),
            Attribute::OomScoreAdj => self.oom_score_adj.is_some(),
            Attribute::RootlessEuid => self.rootless_euid.is_some(),
            Attribute::MountSources => self.mount_sources.is_some(),
            Attribute::TimeOffsets => self.time_offsets.is_some(),
            Attribute::ConsolePath => self.console_path.is_some(),
        }
    }

    /// The plan-consistency rules of spec section 8, which an executor checks before any side effect
    /// ([`MessageView::check_rules`] checks the same rules on a decoded message).
    pub fn check(&self) -> Result<(), PlanError> {
        rules(
            self.clone_flags,
            self.uid_map.is_some() || self.gid_map.is_some(),
            self.time_offsets.is_some(),
            self.namespace_paths.iter().map(|e| e.kind),
        )
    }
}

/// Builds a plan step by step.
#[derive(Clone, Debug, Default)]
pub struct PlanBuilder {
    plan: BootstrapPlan,
}

impl PlanBuilder {
    /// Create a new namespace of `kind`.
    pub fn create(mut self, kind: NamespaceKind) -> Self {
        self.plan.clone_flags = self.plan.clone_flags.with(kind);
        self
    }

    /// Join the namespace of `kind` at `path`.
    pub fn join(mut self, kind: NamespaceKind, path: impl Into<PathBuf>) -> Self {
        self.plan
            .namespace_paths
            .push(NamespacePath::new(kind, path));
        self
    }

    /// Add a uid range.
    pub fn map_user(mut self, container_id: u32, host_id: u32, size: u32) -> Self {
        self.plan
            .uid_map
            .get_or_insert_with(Vec::new)
            .push(IdRange::new(container_id, host_id, size));
        self
    }

    /// Add a gid range.
    pub fn map_group(mut self, container_id: u32, host_id: u32, size: u32) -> Self {
        self.plan
            .gid_map
            .get_or_insert_with(Vec::new)
            .push(IdRange::new(container_id, host_id, size));
        self
    }

    /// Allow or deny setgroups(2).
    pub fn setgroups(mut self, allow: bool) -> Self {
        self.plan.setgroups = Some(allow);
        self
    }

    /// Set oom_score_adj.
    pub fn oom_score_adj(mut self, value: i32) -> Self {
        self.plan.oom_score_adj = Some(value);
        self
    }

    /// Say whether the runtime runs rootless.
    pub fn rootless_euid(mut self, rootless: bool) -> Self {
        self.plan.rootless_euid = Some(rootless);
        self
    }

    /// Paths of the newuidmap and newgidmap helpers.
    pub fn id_map_helpers(
        mut self,
        newuidmap: impl Into<PathBuf>,
        newgidmap: impl Into<PathBuf>,
    ) -> Self {
        self.plan.newuidmap_path = Some(newuidmap.into());
        self.plan.newgidmap_path = Some(newgidmap.into());
        self
    }

    /// Add a time-namespace offset.
    pub fn time_offset(mut self, clock: Clock, secs: i64, nanosecs: u32) -> Self {
        self.plan
            .time_offsets
            .get_or_insert_with(Vec::new)
            .push(TimeOffset {
                clock,
                secs,
                nanosecs,
            });
        self
    }

    /// Add a mount source (runc-1.1); `None` for a mount without one.
    pub fn mount_source(mut self, source: Option<PathBuf>) -> Self {
        self.plan
            .mount_sources
            .get_or_insert_with(Vec::new)
            .push(source);
        self
    }

    /// Set the console path.
    pub fn console(mut self, path: impl Into<PathBuf>) -> Self {
        self.plan.console_path = Some(path.into());
        self
    }

    /// Set the header fields.
    pub fn netlink(mut self, fields: NetlinkFields) -> Self {
        self.plan.netlink = fields;
        self
    }

    /// The plan.
    pub fn build(self) -> BootstrapPlan {
        self.plan
    }
}

/// serde for clone flags as an array of names plus, for bits no name covers, one "0x%08x" string.
#[cfg(feature = "serde")]
mod clone_flags_serde {
    use crate::namespace::{CloneFlags, NamespaceKind};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(f: &CloneFlags, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        for k in f.namespaces() {
            seq.serialize_element(k.name())?;
        }
        if f.unknown_bits() != 0 {
            seq.serialize_element(&format!("{:#010x}", f.unknown_bits()))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CloneFlags, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut flags = 0u32;
        for n in names {
            if let Some(k) = NamespaceKind::from_name(n.as_bytes()) {
                flags |= k.flag();
            } else if let Some(hex) = n.strip_prefix("0x") {
                flags |= u32::from_str_radix(hex, 16).map_err(|_| {
                    serde::de::Error::custom(format!("clone flag {n:?} is not a hex number"))
                })?;
            } else {
                return Err(serde::de::Error::custom(format!(
                    "unknown clone flag {n:?} (expected a namespace name or a 0x hex number)"
                )));
            }
        }
        Ok(CloneFlags(flags))
    }
}

impl MessageView<'_> {
    /// The plan-consistency rules of spec section 8 on the decoded message, as [`BootstrapPlan::check`]
    /// checks them on an owned plan: an executor runs this before any side effect.
    pub fn check_rules(&self) -> Result<(), PlanError> {
        rules(
            self.clone_flags(),
            self.uid_map().is_some() || self.gid_map().is_some(),
            self.time_offsets().is_some(),
            self.namespace_paths()
                .into_iter()
                .flat_map(|p| p.iter().map(|e| e.kind)),
        )
    }
}

/// The rules of spec section 8, over what a plan or a decoded message says: the clone flags, whether it
/// has an id map, whether it has time offsets, and the kinds of the namespaces it joins. The first rule
/// broken, in the spec's order.
pub(crate) fn rules(
    flags: CloneFlags,
    has_id_map: bool,
    has_time_offsets: bool,
    mut joined: impl Iterator<Item = NamespaceKind>,
) -> Result<(), PlanError> {
    if has_id_map && !flags.contains(NamespaceKind::User) {
        return Err(PlanError::MapWithoutUserns);
    }
    if has_time_offsets && !flags.contains(NamespaceKind::Time) {
        return Err(PlanError::OffsetsWithoutTimens);
    }
    match joined.find(|&k| flags.contains(k)) {
        Some(kind) => Err(PlanError::JoinAndCreate(kind)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consistency_rules() {
        let p = BootstrapPlan::builder().map_user(0, 1000, 1).build();
        assert_eq!(p.check().unwrap_err().class(), "plan-map-without-userns");
        let p = BootstrapPlan::builder()
            .create(NamespaceKind::User)
            .map_user(0, 1000, 1)
            .build();
        assert!(p.check().is_ok());
        let p = BootstrapPlan::builder()
            .time_offset(Clock::Boottime, 1, 0)
            .build();
        assert_eq!(
            p.check().unwrap_err().class(),
            "plan-offsets-without-timens"
        );
        let p = BootstrapPlan::builder()
            .create(NamespaceKind::Net)
            .join(NamespaceKind::Net, "/proc/1/ns/net")
            .build();
        assert_eq!(p.check().unwrap_err().class(), "plan-join-and-create");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_shape() {
        let p = BootstrapPlan::builder()
            .create(NamespaceKind::User)
            .create(NamespaceKind::Pid)
            .join(NamespaceKind::Net, "/run/netns/x")
            .map_user(0, 1000, 1)
            .oom_score_adj(100)
            .build();
        let j = serde_json::to_value(&p).unwrap();
        assert_eq!(j["clone_flags"], serde_json::json!(["user", "pid"]));
        assert_eq!(j["namespace_paths"][0]["type"], "net");
        assert_eq!(j["uid_map"][0]["host_id"], 1000);
        assert_eq!(j["netlink"]["flags"], 1);
        assert!(j.get("gid_map").is_none());
        let back: BootstrapPlan = serde_json::from_value(j).unwrap();
        assert_eq!(back, p);
        let odd: BootstrapPlan =
            serde_json::from_str(r#"{"clone_flags": ["net", "0x00000100"]}"#).unwrap();
        assert_eq!(odd.clone_flags.bits(), 0x4000_0100);
        assert!(serde_json::from_str::<BootstrapPlan>(r#"{"clone_flag": []}"#).is_err());
        assert!(serde_json::from_str::<BootstrapPlan>(r#"{"clone_flags": ["bogus"]}"#).is_err());
    }
}
