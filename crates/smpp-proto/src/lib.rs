//! SMPP 3.4 for consentry, sans-IO: bytes in, typed PDUs and decisions out; no sockets, no
//! clock, no runtime.
//!
//! The tokio client (to carriers) and server (for merchants) in `crates/smpp` sit on this
//! crate, and so do the fuzzer and the deterministic simulation. Main types:
//!
//! - [`Pdu`] / [`Body`]: the typed operations; [`Pdu::encode`] and [`codec::decode_frame`].
//! - [`Decoder`]: splits an arbitrarily chunked stream into PDUs with bounded memory and tells
//!   what to answer for each bad frame ([`FrameError::reply`]).
//! - [`text`]: GSM 03.38, Latin-1 and UCS-2; [`text::encode_text`] picks the cheapest alphabet.
//! - [`concat`](mod@concat): splitting long text into UDH- or SAR-concatenated segments, and
//!   [`Reassembler`] to join them on the way in.
//! - [`receipt`]: the Appendix B delivery-receipt text, parsed tolerantly and formatted.
//! - [`Session`]: which PDU is allowed in which bind state, for either side of the link;
//!   [`SequenceNumbers`] and [`Window`] for in-flight requests.
//!
//! ```
//! use smpp_proto::{Body, Decoder, Pdu, ShortMessage, Address, text};
//!
//! let (data_coding, short_message) = text::encode_text("Hello 世界");
//! let submit = Pdu::request(1, Body::SubmitSm(ShortMessage {
//!     source: Address::new(5, 0, "SHOP"),
//!     destination: Address::international("8613800138000"),
//!     data_coding,
//!     short_message,
//!     ..ShortMessage::default()
//! }));
//! let bytes = submit.encode()?;
//!
//! // The peer reads it in two arbitrary chunks.
//! let mut decoder = Decoder::new();
//! decoder.extend(&bytes[..10]);
//! assert_eq!(decoder.next_pdu()?, None);
//! decoder.extend(&bytes[10..]);
//! let got = decoder.next_pdu()?.expect("one whole PDU");
//! let Body::SubmitSm(sm) = &got.body else { panic!("not a submit_sm") };
//! assert_eq!(text::decode_text(sm.data_coding, &sm.short_message), "Hello 世界");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod codec;
pub mod command;
pub mod concat;
pub mod error;
pub mod message_state;
pub mod pdu;
pub mod reassembly;
pub mod receipt;
pub mod session;
pub mod status;
pub mod text;
pub mod tlv;
pub mod window;
mod wire;

pub use codec::{Decoder, FrameError, decode_frame};
pub use command::CommandId;
pub use error::{DecodeError, EncodeError};
pub use message_state::MessageState;
pub use pdu::{
    Address, Bind, BindMode, BindResp, Body, DataSm, Header, Outbind, Pdu, QuerySm, QuerySmResp,
    ShortMessage, SmResp,
};
pub use reassembly::Reassembler;
pub use receipt::{Receipt, format_receipt};
pub use session::{Inbound, Role, Session, SessionError, SessionState};
pub use status::CommandStatus;
pub use tlv::{Tlv, Tlvs};
pub use window::{SequenceNumbers, Window, WindowError};
