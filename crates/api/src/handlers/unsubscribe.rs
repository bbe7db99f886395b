//! `/u/{token}`: one-click unsubscribe pages for consumers (HTML, no external assets).
//!
//! GET shows what the link does and a button; only the button's POST opts out, so link
//! scanners that fetch every URL in a message opt nobody out.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use gateway::{GatewayError, LinkView};

use crate::AppState;
use crate::path::ApiPath;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}\
         button{{font-size:1.1rem;padding:.6rem 1.4rem}}</style></head><body>{body}</body></html>"
    );
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ),
    );
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}

fn failure(e: &GatewayError) -> Response {
    match e {
        GatewayError::NotFound(_) => page(
            StatusCode::NOT_FOUND,
            "链接无效 / Link not found",
            "<h1>链接无效</h1><p>This unsubscribe link is not valid.</p>",
        ),
        other => {
            tracing::error!(error = %other, "unsubscribe link failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "出错了 / Error",
                "<h1>出错了</h1><p>Something went wrong; nothing was changed. Please try again.</p>",
            )
        }
    }
}

async fn run(
    state: &AppState,
    f: impl FnOnce(&gateway::Gateway) -> Result<LinkView, GatewayError> + Send + 'static,
) -> Result<LinkView, Response> {
    let gw = std::sync::Arc::clone(&state.gateway);
    match tokio::task::spawn_blocking(move || f(&gw)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(failure(&e)),
        Err(e) => Err(failure(&GatewayError::InvalidField(e.to_string()))),
    }
}

/// The confirmation page: who the link unsubscribes from, and a button. Changes nothing.
#[utoipa::path(get, path = "/u/{token}", params(("token" = String, Path)),
    responses((status = 200, content_type = "text/html", description = "Confirmation page"),
        (status = 404, content_type = "text/html", description = "Unknown link")))]
pub async fn show(State(state): State<AppState>, ApiPath(token): ApiPath<String>) -> Response {
    let t = token.clone();
    let view = match run(&state, move |gw| gw.unsubscribe_link(&t)).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let name = escape(&view.sender_name);
    let phone = escape(&view.phone_masked);
    if view.opted_out {
        return page(
            StatusCode::OK,
            "已退订 / Unsubscribed",
            &format!(
                "<h1>已退订</h1><p>{phone} 已不再接收 <b>{name}</b> 的营销短信。</p>\
                 <p>{phone} no longer gets marketing texts from <b>{name}</b>.</p>"
            ),
        );
    }
    page(
        StatusCode::OK,
        "退订 / Unsubscribe",
        &format!(
            "<h1>退订营销短信</h1><p>{phone} 将不再接收 <b>{name}</b> 的营销短信。</p>\
             <p>Stop marketing texts from <b>{name}</b> to {phone}?</p>\
             <form method=\"post\" action=\"/u/{}\"><button type=\"submit\">确认退订 / Unsubscribe</button></form>",
            escape(&token)
        ),
    )
}

/// Opts the link's phone out of the link's sender and says which sender it applied to.
#[utoipa::path(post, path = "/u/{token}", params(("token" = String, Path)),
    responses((status = 200, content_type = "text/html", description = "Done"),
        (status = 404, content_type = "text/html", description = "Unknown link")))]
pub async fn confirm(State(state): State<AppState>, ApiPath(token): ApiPath<String>) -> Response {
    let view = match run(&state, move |gw| gw.unsubscribe_by_link(&token)).await {
        Ok(v) => v,
        Err(resp) => return resp,
    };
    let name = escape(&view.sender_name);
    let phone = escape(&view.phone_masked);
    page(
        StatusCode::OK,
        "已退订 / Unsubscribed",
        &format!(
            "<h1>已退订</h1><p>{phone} 已退订 <b>{name}</b>（商户编号 {id}）的营销短信，立即生效。</p>\
             <p>{phone} is unsubscribed from marketing texts from <b>{name}</b> (sender {id}), effective now.</p>",
            id = view.sender_id
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn names_cannot_inject_markup() {
        assert_eq!(
            escape("<script>\"x\"&'"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;"
        );
    }
}
