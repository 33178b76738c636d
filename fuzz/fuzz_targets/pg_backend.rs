//! A PostgreSQL server's bytes, twice: message by message as `postgres-protocol`
//! parses them (`Message::parse` over a buffer fed one segment at a time, every
//! body decoded as `tokio-postgres` decodes it), then as a whole session of
//! gonogo's PostgreSQL workload over the real client (see
//! `gonogo::fuzzing::pg_session`). The input's segments: a length byte, then that
//! many bytes.
#![no_main]

use std::hint::black_box;

use bytes::BytesMut;
use postgres_protocol::message::backend::{
    Header, Message, NOTICE_RESPONSE_TAG, NOTIFICATION_RESPONSE_TAG, PARAMETER_STATUS_TAG,
    READY_FOR_QUERY_TAG,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::fallible_iterator::FallibleIterator;
use tokio_postgres::types::Type;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    messages(data);
    gonogo::fuzzing::pg_session(data);
});

/// Feed `data`'s segments into one buffer as a socket would, framing it as
/// `tokio-postgres`'s codec does and parsing every framed message, until the end
/// or the first error (which ends a connection).
fn messages(data: &[u8]) {
    let mut src = BytesMut::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let (segment, after) = tail.split_at(usize::from(len).min(tail.len()));
        rest = after;
        src.extend_from_slice(segment);
        loop {
            match frame(&mut src) {
                Ok(Some(mut framed)) => loop {
                    match Message::parse(&mut framed) {
                        Ok(Some(message)) => {
                            if decode(message).is_err() {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => return,
                    }
                },
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

/// `tokio_postgres::codec::PostgresCodec::decode` (0.7.18), which is private: the
/// whole messages at the front of `src`, up to and including a `ReadyForQuery`,
/// or one asynchronous message alone. `Message::parse` is only ever given whole
/// messages: on a partial one it reserves the length the header claims (up to
/// 4 GiB), which the codec never lets happen.
fn frame(src: &mut BytesMut) -> std::io::Result<Option<BytesMut>> {
    let mut idx = 0;
    while let Some(header) = Header::parse(&src[idx..])? {
        let len = header.len() as usize + 1;
        if src[idx..].len() < len {
            break;
        }
        match header.tag() {
            NOTICE_RESPONSE_TAG | NOTIFICATION_RESPONSE_TAG | PARAMETER_STATUS_TAG => {
                if idx == 0 {
                    return Ok(Some(src.split_to(len)));
                }
                break;
            }
            _ => {}
        }
        idx += len;
        if header.tag() == READY_FOR_QUERY_TAG {
            break;
        }
    }
    Ok((idx > 0).then(|| src.split_to(idx)))
}

/// Read every part of `message` as `tokio-postgres` reads it.
fn decode(message: Message) -> std::io::Result<()> {
    match message {
        Message::DataRow(body) => {
            // As `Row::new` and `Row::col_buffer`.
            let ranges: Vec<_> = body.ranges().collect()?;
            for range in ranges.into_iter().flatten() {
                black_box(&body.buffer()[range]);
            }
        }
        Message::ErrorResponse(body) => error_fields(body.fields())?,
        Message::NoticeResponse(body) => error_fields(body.fields())?,
        Message::RowDescription(body) => {
            let mut fields = body.fields();
            while let Some(field) = fields.next()? {
                black_box((field.name(), field.table_oid(), field.column_id()));
                black_box((field.type_size(), field.type_modifier(), field.format()));
                black_box(Type::from_oid(field.type_oid()));
            }
        }
        Message::ParameterDescription(body) => {
            let mut parameters = body.parameters();
            while let Some(oid) = parameters.next()? {
                black_box(Type::from_oid(oid));
            }
        }
        Message::CommandComplete(body) => {
            // As `tokio_postgres::query::extract_row_affected`.
            let tag = body.tag()?;
            black_box(tag.rsplit(' ').next().map(str::parse::<u64>));
        }
        Message::ParameterStatus(body) => {
            black_box((body.name()?, body.value()?));
        }
        Message::NotificationResponse(body) => {
            black_box((body.process_id(), body.channel()?, body.message()?));
        }
        Message::BackendKeyData(body) => {
            black_box((body.process_id(), body.secret_key()));
        }
        Message::AuthenticationSasl(body) => {
            let mut mechanisms = body.mechanisms();
            while let Some(mechanism) = mechanisms.next()? {
                black_box(mechanism);
            }
        }
        Message::AuthenticationMd5Password(body) => {
            black_box(body.salt());
        }
        Message::AuthenticationSaslContinue(body) => {
            black_box(body.data());
        }
        Message::AuthenticationSaslFinal(body) => {
            black_box(body.data());
        }
        Message::CopyData(body) => {
            black_box(body.data());
        }
        Message::CopyInResponse(body) => {
            black_box(body.format());
            let mut formats = body.column_formats();
            while let Some(format) = formats.next()? {
                black_box(format);
            }
        }
        Message::CopyOutResponse(body) => {
            black_box(body.format());
            let mut formats = body.column_formats();
            while let Some(format) = formats.next()? {
                black_box(format);
            }
        }
        Message::ReadyForQuery(body) => {
            black_box(body.status());
        }
        _ => {}
    }
    Ok(())
}

/// An error or notice's fields, as `DbError::parse` reads them.
fn error_fields(
    mut fields: postgres_protocol::message::backend::ErrorFields<'_>,
) -> std::io::Result<()> {
    while let Some(field) = fields.next()? {
        let value = String::from_utf8_lossy(field.value_bytes());
        match field.type_() {
            b'C' => {
                black_box(SqlState::from_code(&value));
            }
            b'P' | b'p' | b'L' => {
                black_box(value.parse::<u32>().ok());
            }
            _ => {
                black_box(value);
            }
        }
    }
    Ok(())
}
