//! GetStream, ListStreams, StopStream (what is live: asked of the ingest through
//! [`crate::LiveStreams`]) and GetStreamSession, ListStreamSessions (history, in the store).

use serde::Deserialize;
use serde_json::{Value, json};
use troupe_store::{Page, PageRequest};

use crate::{
    broadcast_shapes::{stream_session_json, stream_session_summary_json},
    error::{ApiError, ApiResult, ErrorType},
    live_streams::StreamHealth,
    pagination::{list_response, page_request},
    plane::ControlPlane,
    request::{parse_body, required},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelArnRequest {
    channel_arn: Option<String>,
}

#[derive(Deserialize)]
struct StreamFilters {
    health: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListStreamsRequest {
    filter_by: Option<StreamFilters>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetStreamSessionRequest {
    channel_arn: Option<String>,
    stream_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListStreamSessionsRequest {
    channel_arn: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// Stream ids: `st-` and 23 letters or digits.
fn check_stream_id(id: &str, field: &str) -> ApiResult<()> {
    let ok = id.len() == 26
        && id.starts_with("st-")
        && id.bytes().skip(3).all(|b| b.is_ascii_alphanumeric());
    if !ok {
        return Err(ApiError::validation(format!(
            "{field}: {id:?} is not a stream id (st- and 23 letters or digits)"
        )));
    }
    Ok(())
}

fn not_broadcasting(arn: &str) -> ApiError {
    ApiError::new(ErrorType::ChannelNotBroadcasting, format!("channel {arn} is not live"))
}

impl ControlPlane {
    pub(crate) async fn get_stream(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ChannelArnRequest = parse_body(body)?;
        let arn = required(&req.channel_arn, "channelArn")?;
        let channel = self.find_channel(arn, "channelArn").await?;
        let live = self.live_streams().get(&channel.id).ok_or_else(|| not_broadcasting(arn))?;
        Ok(json!({ "stream": self.stream_json(&channel.id, &live) }))
    }

    /// Live streams ordered by start time; the page position is an index into that order.
    pub(crate) async fn list_streams(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListStreamsRequest = parse_body(body)?;
        let health = match req.filter_by.as_ref().and_then(|f| f.health.as_deref()) {
            None => None,
            Some(h) => Some(StreamHealth::parse(h).ok_or_else(|| {
                ApiError::validation(format!(
                    "filterBy.health: {h:?} is not HEALTHY, STARVING or UNKNOWN"
                ))
            })?),
        };
        let page = page_request("streams", req.next_token.as_deref(), req.max_results, 100)?;
        let mut live = self.live_streams().list();
        live.retain(|(_, info)| health.is_none_or(|h| info.health == h));
        live.sort_by(|a, b| (a.1.start_time, &a.0).cmp(&(b.1.start_time, &b.0)));
        let page = index_page(live, page);
        Ok(list_response("streams", "streams", &page, |(_, (id, info))| {
            self.stream_summary_json(id, info)
        }))
    }

    pub(crate) async fn stop_stream(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ChannelArnRequest = parse_body(body)?;
        let arn = required(&req.channel_arn, "channelArn")?;
        let channel = self.find_channel(arn, "channelArn").await?;
        if !self.live_streams().stop(&channel.id) {
            return Err(not_broadcasting(arn));
        }
        tracing::info!(channel = %channel.id, "stream stopped by API");
        Ok(json!({}))
    }

    pub(crate) async fn get_stream_session(&self, body: &[u8]) -> ApiResult<Value> {
        let req: GetStreamSessionRequest = parse_body(body)?;
        let arn = required(&req.channel_arn, "channelArn")?;
        if let Some(id) = &req.stream_id {
            check_stream_id(id, "streamId")?;
        }
        let channel = self.find_channel(arn, "channelArn").await?;
        let store_err = |e| ApiError::from_store(e, "stream session");
        // Without a stream id, IVS answers with the channel's most recent session.
        let session = match &req.stream_id {
            Some(id) => self.store.get_stream_session(&channel.id, id).await.map_err(store_err)?,
            None => self.store.latest_stream_session(&channel.id).await.map_err(store_err)?,
        };
        let session = session.ok_or_else(|| match &req.stream_id {
            Some(id) => ApiError::not_found(format!("stream {id} not found on channel {arn}")),
            None => ApiError::not_found(format!("channel {arn} has never streamed")),
        })?;
        Ok(json!({ "streamSession": stream_session_json(&session) }))
    }

    pub(crate) async fn list_stream_sessions(&self, body: &[u8]) -> ApiResult<Value> {
        let req: ListStreamSessionsRequest = parse_body(body)?;
        let arn = required(&req.channel_arn, "channelArn")?;
        let channel = self.find_channel(arn, "channelArn").await?;
        let scope = format!("streamSessions/{}", channel.id);
        let page = page_request(&scope, req.next_token.as_deref(), req.max_results, 100)?;
        let page = self
            .store
            .list_stream_sessions(&channel.id, page)
            .await
            .map_err(|e| ApiError::from_store(e, "channel"))?;
        Ok(list_response("streamSessions", &scope, &page, stream_session_summary_json))
    }
}

/// A page of an in-memory list, positions counted from 1 (`after` is the last one seen).
fn index_page<T>(items: Vec<T>, page: PageRequest) -> Page<(i64, T)> {
    let after = page.after.unwrap_or(0).max(0);
    let rows: Vec<(i64, T)> = (1..)
        .zip(items)
        .skip(usize::try_from(after).unwrap_or(usize::MAX))
        .take(page.limit as usize + 1)
        .collect();
    Page::from_rows(rows, page, |(i, _)| *i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids() {
        assert!(check_stream_id("st-1AbCdEfGhIjKlMnOpQrStUv", "streamId").is_ok());
        assert!(check_stream_id("st-abc", "streamId").is_err());
        assert!(check_stream_id("xx-1AbCdEfGhIjKlMnOpQrStUv", "streamId").is_err());
    }

    #[test]
    fn in_memory_pages_see_every_item_once() {
        let first = index_page(vec!['a', 'b', 'c'], PageRequest { after: None, limit: 2 });
        assert_eq!(first.items, vec![(1, 'a'), (2, 'b')]);
        let rest =
            index_page(vec!['a', 'b', 'c'], PageRequest { after: first.next_after, limit: 2 });
        assert_eq!((rest.items, rest.next_after), (vec![(3, 'c')], None));
    }
}
