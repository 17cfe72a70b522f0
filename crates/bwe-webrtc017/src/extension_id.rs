//! Finding the abs-send-time extension id a stream negotiated.
//!
//! The id is chosen per session in SDP (`a=extmap:<id> <uri>`), so it is read from the
//! `StreamInfo` the chain is given at bind time, never assumed. An id that cannot appear in an
//! RTP header (0, negative, or above 255) counts as not negotiated.

use interceptor::stream_info::StreamInfo;

/// The abs-send-time extension URI.
pub const ABS_SEND_TIME_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";

/// The header-extension id `uri` was negotiated under for this stream, if it was and is usable.
pub fn negotiated_id(info: &StreamInfo, uri: &str) -> Option<u8> {
    info.rtp_header_extensions
        .iter()
        .find(|ext| ext.uri == uri)
        .and_then(|ext| u8::try_from(ext.id).ok())
        .filter(|id| *id != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use interceptor::stream_info::RTPHeaderExtension;

    fn info(exts: &[(&str, isize)]) -> StreamInfo {
        StreamInfo {
            ssrc: 1,
            rtp_header_extensions: exts
                .iter()
                .map(|(uri, id)| RTPHeaderExtension {
                    uri: (*uri).to_owned(),
                    id: *id,
                })
                .collect(),
            ..StreamInfo::default()
        }
    }

    /// The id comes from SDP, whatever number the peers agreed on.
    #[test]
    fn id_is_read_from_the_negotiated_extensions() {
        let twcc = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
        let both = info(&[(twcc, 5), (ABS_SEND_TIME_URI, 7)]);
        assert_eq!(negotiated_id(&both, ABS_SEND_TIME_URI), Some(7));
        assert_eq!(negotiated_id(&info(&[(twcc, 5)]), ABS_SEND_TIME_URI), None);
    }

    /// Ids no RTP header can carry are treated as not negotiated rather than truncated.
    #[test]
    fn unusable_ids_count_as_not_negotiated() {
        for id in [0, -1, 256] {
            let stream = info(&[(ABS_SEND_TIME_URI, id)]);
            assert_eq!(negotiated_id(&stream, ABS_SEND_TIME_URI), None, "{id}");
        }
    }
}
