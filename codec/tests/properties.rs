//! Property tests of the codec (spec sections 3 to 7 and 19).

use arbitrary::{Arbitrary, Unstructured};
use nsbootstrap_codec::{BootstrapPlan, Dialect, MessageReader, MessageView, Mode};
use proptest::prelude::*;

fn plan_from(seed: &[u8]) -> Option<BootstrapPlan> {
    BootstrapPlan::arbitrary(&mut Unstructured::new(seed)).ok()
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop::sample::select(Dialect::ALL.to_vec())
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Strict), Just(Mode::Lenient)]
}

/// Feeds `bytes` to a reader in chunks of the given sizes (cycled); returns the reader's outcome as the
/// error class or the decoded plan, and how many bytes it took.
fn read_chunked(
    bytes: &[u8],
    sizes: &[usize],
    d: Dialect,
    m: Mode,
) -> (Result<BootstrapPlan, &'static str>, usize) {
    let mut r = MessageReader::new(d, m);
    let mut pos = 0;
    let mut i = 0;
    while !r.is_complete() {
        if pos == bytes.len() {
            return (Err(r.eof_error().class()), pos);
        }
        let want = sizes[i % sizes.len()].max(1);
        i += 1;
        let end = (pos + want).min(bytes.len());
        match r.push(&bytes[pos..end]) {
            Ok(n) => pos += n,
            Err(e) => return (Err(e.class()), pos),
        }
    }
    let out = r
        .decode()
        .expect("complete")
        .map(|v| BootstrapPlan::from_view(&v))
        .map_err(|e| e.class());
    (out, pos)
}

/// Overwrites bytes after the length field (offset 4 on), so the declared length stays the buffer's.
fn mutate(bytes: &mut [u8], flips: &[(usize, u8)]) {
    for &(at, v) in flips {
        let i = 4 + at % (bytes.len() - 4);
        bytes[i] = v;
    }
}

fn whole(bytes: &[u8], d: Dialect, m: Mode) -> Result<BootstrapPlan, &'static str> {
    MessageView::decode(bytes, d, m)
        .map(|v| BootstrapPlan::from_view(&v))
        .map_err(|e| e.class())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// encode then decode gives the plan back, in strict and lenient mode.
    #[test]
    fn encode_decode_is_identity(seed in prop::collection::vec(any::<u8>(), 0..600), m in mode()) {
        let Some(plan) = plan_from(&seed) else { return Ok(()) };
        let d = plan.dialect.unwrap();
        let bytes = plan.to_bytes(d).unwrap();
        prop_assert_eq!(bytes.len(), plan.encoded_len(d).unwrap());
        let mut back = whole(&bytes, d, m).unwrap();
        back.dialect = Some(d);
        prop_assert_eq!(back, plan);
    }

    /// decode then encode gives the same bytes for every canonical message (what encoders emit).
    #[test]
    fn decode_encode_is_identity_on_canonical_bytes(seed in prop::collection::vec(any::<u8>(), 0..600)) {
        let Some(plan) = plan_from(&seed) else { return Ok(()) };
        let d = plan.dialect.unwrap();
        let bytes = plan.to_bytes(d).unwrap();
        let again = BootstrapPlan::decode(&bytes, d).unwrap().to_bytes(d).unwrap();
        prop_assert_eq!(again, bytes);
    }

    /// No byte string makes the decoder, the reader or explain panic, in any dialect or mode.
    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), d in dialect(), m in mode()) {
        let _ = MessageView::decode(&bytes, d, m);
        let (_, taken) = read_chunked(&bytes, &[7, 1, 3], d, m);
        prop_assert!(taken <= bytes.len());
        let (text, err) = nsbootstrap_codec::explain(&bytes, d, m);
        prop_assert!(!text.is_empty());
        prop_assert_eq!(err.is_some(), MessageView::decode(&bytes, d, m).is_err());
    }

    /// Mutated valid messages (length field untouched): no panic, and whatever strict accepts, lenient accepts
    /// as the same plan.
    #[test]
    fn mutations_of_valid_messages(
        seed in prop::collection::vec(any::<u8>(), 0..600),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let Some(plan) = plan_from(&seed) else { return Ok(()) };
        let d = plan.dialect.unwrap();
        let mut bytes = plan.to_bytes(d).unwrap();
        mutate(&mut bytes, &flips);
        let strict = whole(&bytes, d, Mode::Strict);
        let lenient = whole(&bytes, d, Mode::Lenient);
        if let Ok(p) = strict {
            prop_assert_eq!(lenient, Ok(p));
        }
    }

    /// A message fed in chunks of any sizes gives the same result as decoding it whole, and the reader never
    /// takes a byte past the message.
    #[test]
    fn chunked_and_whole_agree(
        seed in prop::collection::vec(any::<u8>(), 0..600),
        sizes in prop::collection::vec(1usize..40, 1..8),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        tail in prop::collection::vec(any::<u8>(), 0..20),
        m in mode(),
    ) {
        let Some(plan) = plan_from(&seed) else { return Ok(()) };
        let d = plan.dialect.unwrap();
        let mut bytes = plan.to_bytes(d).unwrap();
        mutate(&mut bytes, &flips);
        let expected = whole(&bytes, d, m);
        let len = bytes.len();
        bytes.extend_from_slice(&tail);
        let (got, taken) = read_chunked(&bytes, &sizes, d, m);
        prop_assert_eq!(got, expected);
        prop_assert!(taken <= len);
    }
}
