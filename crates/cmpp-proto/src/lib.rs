//! CMPP 2.0 and 3.0 (China Mobile Peer to Peer) for consentry, sans-IO: bytes in, typed PDUs
//! and decisions out; no sockets, no clock, no runtime.
//!
//! China Mobile's SMS gateways (ISMG) and most Chinese SMS software speak CMPP rather than
//! SMPP. The tokio client and server in `crates/cmpp` sit on this crate, and so does the fuzzer.
//! Main types:
//!
//! - [`Pdu`] / [`Body`]: the operations, encoded and decoded for a [`Version`] (3.0 and 2.0
//!   differ in field widths: 32- vs 21-octet terminal ids, four- vs one-octet results).
//! - [`Decoder`]: splits an arbitrarily chunked stream into PDUs with bounded memory and says
//!   what to answer for each bad frame ([`FrameError::reply`]).
//! - [`ClientHandshake`] and [`answer_connect`]: the MD5 authenticators of CONNECT and
//!   CONNECT_RESP and version negotiation; [`Session`]: which PDU may flow when.
//! - [`MsgId`]: the 64-bit Msg_Id (time, gateway code, sequence); [`StatusReport`]: the
//!   Msg_Content of a DELIVER with Registered_Delivery = 1.
//! - [`text`]: Msg_Fmt 0 (ASCII), 8 (UCS-2) and 15 (GBK); [`concat`](mod@concat): long messages
//!   behind a 6-octet UDH, split and reassembled.
//! - [`Window`]: in-flight requests with flow control (Result 8 halves the window and pauses).
//!
//! ```
//! use cmpp_proto::{
//!     Body, ClientHandshake, Decoder, Pdu, Submit, Version, answer_connect, concat, text,
//! };
//!
//! // The SP connects with its code and shared secret; the gateway checks and answers.
//! let sp = ClientHandshake::new("901234", b"secret", Version::V30, 1_202_093_015);
//! let Body::Connect(connect) = sp.request(1).body else { unreachable!() };
//! let (resp, agreed) = answer_connect(&connect, Version::V30, Some(b"secret"));
//! assert_eq!(agreed, Some(Version::V30));
//! assert_eq!(sp.accept(&resp)?, Version::V30);
//!
//! // A Chinese message to one handset, in UCS-2.
//! let part = concat::split("您的验证码是 1234", 1)?.remove(0);
//! let submit = Pdu::new(2, Body::Submit(Box::new(Submit {
//!     msg_src: "901234".into(),
//!     src_id: "1065801234".into(),
//!     dest_terminal_ids: vec!["13800138000".into()],
//!     msg_fmt: part.msg_fmt,
//!     msg_content: part.content,
//!     registered_delivery: 1,
//!     ..Submit::default()
//! })));
//! let bytes = submit.encode(Version::V30)?;
//!
//! // The gateway reads it in two arbitrary chunks.
//! let mut decoder = Decoder::new();
//! decoder.extend(&bytes[..30]);
//! assert_eq!(decoder.next_pdu()?, None);
//! decoder.extend(&bytes[30..]);
//! let got = decoder.next_pdu()?.expect("one whole PDU");
//! let Body::Submit(s) = &got.body else { unreachable!() };
//! assert_eq!(text::decode_text(s.msg_fmt, &s.msg_content), "您的验证码是 1234");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod codec;
pub mod command;
pub mod concat;
pub mod error;
pub mod msg_id;
pub mod pdu;
pub mod result;
pub mod session;
pub mod text;
pub mod version;
pub mod window;
mod wire;

pub use codec::{Decoder, FrameError, decode_frame};
pub use command::CommandId;
pub use concat::{Part, Reassembler};
pub use error::{DecodeError, EncodeError};
pub use msg_id::{MsgId, MsgIdGenerator};
pub use pdu::{
    Body, Cancel, CancelResp, Connect, ConnectResp, Deliver, DeliverResp, Header, Pdu, Query,
    QueryResp, StatusReport, Submit, SubmitResp,
};
pub use session::{
    ClientHandshake, ConnectError, Inbound, Role, Session, SessionState, answer_connect,
};
pub use version::Version;
pub use window::{InFlight, SequenceIds, Window, WindowError};
