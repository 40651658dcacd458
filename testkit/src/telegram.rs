//! A fake Telegram Bot API server (real HTTP, the Bot API's JSON shapes).
//!
//! It answers `https://api.telegram.org/bot<token>/<method>` style requests at
//! `http://127.0.0.1:<port>/bot<token>/<method>`: getMe, getUpdates (long
//! polling with offsets), setWebhook / getWebhookInfo / deleteWebhook (with a
//! webhook set, updates are POSTed to it with the secret-token header, in
//! order, retried until the bot answers 2xx, and getUpdates answers 409 as
//! the real API does), setMyCommands, sendChatAction,
//! sendMessage (with scripted 429/403/500 answers), sendPhoto and
//! sendDocument (multipart uploads, the file kept for assertions),
//! editMessageText, editMessageReplyMarkup, deleteMessage and
//! answerCallbackQuery. A test
//! injects updates as if a person wrote to the bot (privately or in a group)
//! or pressed a button, and reads what the bot sent. Other methods answer 404 as the
//! real API does, and a wrong token answers 401.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// The token the fake accepts unless told otherwise.
pub const TEST_TOKEN: &str = "123456:TEST-token-for-the-fake-bot-api";
/// The bot's own identity, as getMe reports it.
pub const BOT_ID: i64 = 123_456;
pub const BOT_USERNAME: &str = "tabletalk_test_bot";

/// A message the bot sent (sendMessage) or edited (editMessageText).
#[derive(Debug, Clone)]
pub struct Sent {
    pub method: String,
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    /// The whole request body, for assertions on parse_mode, reply_markup, ...
    /// (for uploads, every form field but the file).
    pub body: Value,
    /// The file of a sendPhoto or sendDocument.
    pub file: Option<SentFile>,
}

/// A file the bot uploaded.
#[derive(Clone)]
pub struct SentFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for SentFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SentFile({:?}, {} bytes)",
            self.file_name,
            self.bytes.len()
        )
    }
}

/// The webhook the bot set, as setWebhook received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
}

/// setMyCommands as the bot called it: the scope (JSON, `default` when
/// none) and the command names in order.
#[derive(Debug, Clone)]
pub struct CommandList {
    pub scope: Value,
    pub commands: Vec<String>,
}

#[derive(Default)]
struct Inner {
    next_update_id: i64,
    next_message_id: i64,
    /// Updates not yet confirmed by an offset.
    pending: Vec<Value>,
    sent: Vec<Sent>,
    calls: Vec<String>,
    /// (chat id, message id) of every deleteMessage.
    deleted: Vec<(i64, i64)>,
    /// Failures scripted for the next sendMessage calls to a chat.
    failures: std::collections::HashMap<i64, std::collections::VecDeque<Failure>>,
    webhook: Option<Webhook>,
    /// Webhook deliveries: (update id, HTTP status the bot answered).
    deliveries: Vec<(i64, u16)>,
    command_lists: Vec<CommandList>,
}

/// How the fake refuses a sendMessage, as Telegram does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429 Too Many Requests with `parameters.retry_after`.
    RetryAfter(i64),
    /// 403: the person blocked the bot.
    Blocked,
    /// 500: Telegram's own trouble.
    Internal,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
    updates: Notify,
    sent: Notify,
    http: reqwest::Client,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not make every later call panic too.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake Bot API. Dropping it stops the server.
pub struct FakeTelegram {
    /// The base URL to give the bot instead of `https://api.telegram.org`.
    pub api_url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTelegram {
    /// Starts on a free local port, accepting [`TEST_TOKEN`].
    pub async fn start() -> anyhow::Result<FakeTelegram> {
        FakeTelegram::start_with_token(TEST_TOKEN).await
    }

    pub async fn start_with_token(token: &str) -> anyhow::Result<FakeTelegram> {
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            inner: Mutex::new(Inner {
                next_update_id: 1,
                next_message_id: 1,
                ..Inner::default()
            }),
            updates: Notify::new(),
            sent: Notify::new(),
            http: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/{bot_token}/{method}", any(handle))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let api_url = format!("http://{}", listener.local_addr()?);
        let delivering = shared.clone();
        let server = tokio::spawn(async move {
            // The webhook deliverer lives and dies with the server.
            let deliveries = tokio::spawn(deliver_to_webhook(delivering));
            drop(axum::serve(listener, app).await);
            deliveries.abort();
        });
        Ok(FakeTelegram {
            api_url,
            shared,
            server,
        })
    }

    /// The state of a bot that talks to this fake (its token and URL), over
    /// the store of `db`, with `extra` settings.
    pub async fn bot_state(
        &self,
        db: &crate::db::TestDb,
        extra: &[(&str, String)],
    ) -> services::AppState {
        let mut env = vec![
            ("TELEGRAM_BOT_TOKEN", TEST_TOKEN.to_owned()),
            ("TELEGRAM_API_URL", self.api_url.clone()),
        ];
        env.extend(extra.iter().cloned());
        crate::app::state(db, &env).await
    }

    /// A person (`user_id`, in a private chat of the same id) writes `text`
    /// to the bot; returns the message's id.
    pub fn send_text(&self, user_id: i64, first_name: &str, text: &str) -> i64 {
        let chat = json!({"id": user_id, "type": "private", "first_name": first_name});
        self.push_message(user_id, first_name, chat, text, None)
    }

    /// A person writes `text` in the group `chat_id` (negative, as Telegram's
    /// are), maybe as a reply to the bot's message `reply_to`; returns the
    /// message's id.
    pub fn send_group_text(
        &self,
        chat_id: i64,
        user_id: i64,
        first_name: &str,
        text: &str,
        reply_to: Option<i64>,
    ) -> i64 {
        let chat = json!({"id": chat_id, "type": "group", "title": "Team chat"});
        let reply =
            reply_to.map(|id| bot_message(id, chat.clone(), Some("(the bot's earlier message)")));
        self.push_message(user_id, first_name, chat, text, reply)
    }

    fn push_message(
        &self,
        user_id: i64,
        first_name: &str,
        chat: Value,
        text: &str,
        reply_to: Option<Value>,
    ) -> i64 {
        let mut inner = self.shared.lock();
        let update_id = inner.next_update_id;
        inner.next_update_id += 1;
        let message_id = inner.next_message_id;
        inner.next_message_id += 1;
        let mut message = json!({
            "message_id": message_id,
            "from": {"id": user_id, "is_bot": false, "first_name": first_name, "language_code": "en"},
            "chat": chat,
            "date": unix_now(),
            "text": text,
        });
        if let Some(reply) = reply_to {
            message["reply_to_message"] = reply;
        }
        if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .map_or(0, |c| c.encode_utf16().count());
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
        }
        inner
            .pending
            .push(json!({"update_id": update_id, "message": message}));
        drop(inner);
        self.shared.updates.notify_waiters();
        message_id
    }

    /// A person presses an inline button carrying `data` under the bot's
    /// message `message_id` in their private chat (a `callback_query` update).
    pub fn press_button(&self, user_id: i64, first_name: &str, message_id: i64, data: &str) {
        let mut inner = self.shared.lock();
        let update_id = inner.next_update_id;
        inner.next_update_id += 1;
        let from = json!({"id": user_id, "is_bot": false, "first_name": first_name, "language_code": "en"});
        inner.pending.push(json!({
            "update_id": update_id,
            "callback_query": {
                "id": format!("cb{update_id}"),
                "from": from,
                "message": bot_message(
                    message_id,
                    json!({"id": user_id, "type": "private", "first_name": first_name}),
                    Some("(the message with the buttons)"),
                ),
                "chat_instance": format!("ci{user_id}"),
                "data": data,
            }
        }));
        drop(inner);
        self.shared.updates.notify_waiters();
    }

    /// The next sendMessage to `chat_id` fails as `failure` (queued in order).
    pub fn fail_next(&self, chat_id: i64, failure: Failure) {
        self.shared
            .lock()
            .failures
            .entry(chat_id)
            .or_default()
            .push_back(failure);
    }

    /// The webhook the bot set, if any.
    pub fn webhook(&self) -> Option<Webhook> {
        self.shared.lock().webhook.clone()
    }

    /// Webhook deliveries so far: (update id, the status the bot answered).
    pub fn deliveries(&self) -> Vec<(i64, u16)> {
        self.shared.lock().deliveries.clone()
    }

    /// Every setMyCommands call, in order.
    pub fn command_lists(&self) -> Vec<CommandList> {
        self.shared.lock().command_lists.clone()
    }

    /// The messages the bot deleted, as (chat id, message id).
    pub fn deleted(&self) -> Vec<(i64, i64)> {
        self.shared.lock().deleted.clone()
    }

    /// Everything the bot has sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    /// The Bot API methods called so far, in order, as the client spelled them
    /// (Telegram treats method names case-insensitively).
    pub fn calls(&self) -> Vec<String> {
        self.shared.lock().calls.clone()
    }

    /// Waits until the bot sends (or edits) something to `chat_id`, after
    /// the first `skip` things it sent there, that `wanted` accepts; returns it.
    pub async fn wait_for(
        &self,
        chat_id: i64,
        skip: usize,
        timeout: Duration,
        wanted: impl Fn(&Sent) -> bool,
    ) -> anyhow::Result<Sent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.sent.notified();
            let found = self
                .sent()
                .into_iter()
                .filter(|s| s.chat_id == chat_id)
                .skip(skip)
                .find(|s| wanted(s));
            if let Some(found) = found {
                return Ok(found);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                anyhow::bail!("the bot sent nothing wanted to chat {chat_id} within {timeout:?}");
            }
        }
    }

    /// How many things the bot has sent (or edited) to `chat_id` so far.
    pub fn sent_to(&self, chat_id: i64) -> usize {
        self.shared
            .lock()
            .sent
            .iter()
            .filter(|s| s.chat_id == chat_id)
            .count()
    }

    /// Waits until the bot has sent `count` messages to `chat_id`, and returns them.
    pub async fn wait_for_sent(
        &self,
        chat_id: i64,
        count: usize,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Sent>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.sent.notified();
            let to_chat: Vec<Sent> = self
                .sent()
                .into_iter()
                .filter(|s| s.chat_id == chat_id)
                .collect();
            if to_chat.len() >= count {
                return Ok(to_chat);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                anyhow::bail!(
                    "the bot sent {} of {count} expected messages to chat {chat_id} within {timeout:?}; calls: {:?}",
                    to_chat.len(),
                    self.calls()
                );
            }
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((bot_token, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot_token.strip_prefix("bot") != Some(shared.token.as_str()) {
        return api_error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let (params, file) = match parse_params(&headers, &body).await {
        Ok(p) => p,
        Err(msg) => return api_error(StatusCode::BAD_REQUEST, &format!("Bad Request: {msg}")),
    };
    shared.lock().calls.push(method.clone());
    // Telegram's method names are case-insensitive.
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Tabletalk Test",
            "username": BOT_USERNAME, "can_join_groups": true,
            "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false
        })),
        "getwebhookinfo" => {
            let inner = shared.lock();
            ok(json!({
                "url": inner.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
                "has_custom_certificate": false,
                "pending_update_count": inner.pending.len(),
            }))
        }
        "setwebhook" => {
            let url = params
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let secret_token = params
                .get("secret_token")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(secret) = &secret_token {
                let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
                if secret.is_empty() || secret.len() > 256 || !secret.chars().all(allowed) {
                    return api_error(StatusCode::BAD_REQUEST, "Bad Request: secret token contains unallowed characters");
                }
            }
            let mut inner = shared.lock();
            inner.webhook = (!url.is_empty()).then_some(Webhook { url, secret_token });
            drop(inner);
            shared.updates.notify_waiters();
            ok(json!(true))
        }
        "deletewebhook" => {
            shared.lock().webhook = None;
            ok(json!(true))
        }
        "setmycommands" => {
            let commands: Vec<String> = params
                .get("commands")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|c| c["command"].as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            // Telegram's rule: 1-32 lowercase letters, digits and underscores.
            let valid = |c: &String| {
                (1..=32).contains(&c.len())
                    && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
            };
            if commands.len() > 100 || !commands.iter().all(valid) {
                return api_error(StatusCode::BAD_REQUEST, "Bad Request: BOT_COMMAND_INVALID");
            }
            let scope = params
                .get("scope")
                .cloned()
                .unwrap_or_else(|| json!({"type": "default"}));
            shared
                .lock()
                .command_lists
                .push(CommandList { scope, commands });
            ok(json!(true))
        }
        "sendchataction" | "answercallbackquery" => ok(json!(true)),
        "sendphoto" | "senddocument" => {
            let field = if method.eq_ignore_ascii_case("sendphoto") { "photo" } else { "document" };
            // The file is the field itself, or a part the field names as
            // `attach://<part>` (how teloxide uploads).
            let part = match params.get(field).and_then(Value::as_str) {
                Some(attached) => attached.strip_prefix("attach://").unwrap_or(attached),
                None => field,
            };
            match file {
                Some((name, sent)) if name == part => {
                    let method = if field == "photo" { "sendPhoto" } else { "sendDocument" };
                    record_file(&shared, method, &params, sent)
                }
                _ => api_error(
                    StatusCode::BAD_REQUEST,
                    &format!("Bad Request: there is no {field} in the request"),
                ),
            }
        }
        "deletemessage" => {
            let chat = params.get("chat_id").and_then(as_i64).unwrap_or(0);
            let message = params.get("message_id").and_then(as_i64).unwrap_or(0);
            shared.lock().deleted.push((chat, message));
            ok(json!(true))
        }
        "editmessagereplymarkup" => ok(bot_message(
            params.get("message_id").and_then(as_i64).unwrap_or(0),
            private_chat(params.get("chat_id").and_then(as_i64).unwrap_or(0)),
            Some("(edited)"),
        )),
        "getupdates" if shared.lock().webhook.is_some() => api_error(
            StatusCode::CONFLICT,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        ),
        "getupdates" => get_updates(&shared, &params).await,
        "sendmessage" => {
            let chat = params.get("chat_id").and_then(as_i64).unwrap_or(0);
            let failure = shared
                .lock()
                .failures
                .get_mut(&chat)
                .and_then(std::collections::VecDeque::pop_front);
            match failure {
                Some(Failure::RetryAfter(secs)) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({
                        "ok": false, "error_code": 429,
                        "description": format!("Too Many Requests: retry after {secs}"),
                        "parameters": {"retry_after": secs}
                    })),
                )
                    .into_response(),
                Some(Failure::Blocked) => api_error(
                    StatusCode::FORBIDDEN,
                    "Forbidden: bot was blocked by the user",
                ),
                Some(Failure::Internal) => {
                    api_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
                }
                None => record_message(&shared, "sendMessage", &params, None),
            }
        }
        "editmessagetext" => {
            let id = params.get("message_id").and_then(as_i64);
            record_message(&shared, "editMessageText", &params, id)
        }
        _ => api_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn get_updates(shared: &Shared, params: &Map<String, Value>) -> Response {
    let offset = params.get("offset").and_then(as_i64).unwrap_or(0);
    let timeout = params
        .get("timeout")
        .and_then(as_i64)
        .unwrap_or(0)
        .clamp(0, 50);
    let limit = params
        .get("limit")
        .and_then(as_i64)
        .unwrap_or(100)
        .clamp(1, 100) as usize;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout as u64);
    loop {
        let notified = shared.updates.notified();
        {
            let mut inner = shared.lock();
            // An offset confirms every update before it (the real API forgets them).
            inner
                .pending
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            if !inner.pending.is_empty() {
                let batch: Vec<Value> = inner.pending.iter().take(limit).cloned().collect();
                return ok(Value::Array(batch));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return ok(json!([]));
        }
    }
}

fn record_message(
    shared: &Shared,
    method: &str,
    params: &Map<String, Value>,
    edit_id: Option<i64>,
) -> Response {
    let Some(chat_id) = params.get("chat_id").and_then(as_i64) else {
        return api_error(StatusCode::BAD_REQUEST, "Bad Request: chat not found");
    };
    let text = params
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if text.is_empty() {
        return api_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: message text is empty",
        );
    }
    if text.chars().count() > 4096 {
        return api_error(StatusCode::BAD_REQUEST, "Bad Request: message is too long");
    }
    let mut inner = shared.lock();
    let message_id = edit_id.unwrap_or_else(|| {
        let id = inner.next_message_id;
        inner.next_message_id += 1;
        id
    });
    inner.sent.push(Sent {
        method: method.to_owned(),
        chat_id,
        message_id,
        text: text.clone(),
        body: Value::Object(params.clone()),
        file: None,
    });
    drop(inner);
    shared.sent.notify_waiters();
    let mut message = bot_message(message_id, private_chat(chat_id), Some(&text));
    if edit_id.is_some() {
        message["edit_date"] = json!(unix_now());
    }
    ok(message)
}

/// A sendPhoto or sendDocument: the file kept, a message with a photo or a
/// document answered (the shapes teloxide parses).
fn record_file(
    shared: &Shared,
    method: &str,
    params: &Map<String, Value>,
    file: SentFile,
) -> Response {
    let Some(chat_id) = params.get("chat_id").and_then(as_i64) else {
        return api_error(StatusCode::BAD_REQUEST, "Bad Request: chat not found");
    };
    if file.bytes.is_empty() {
        return api_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: file must be non-empty",
        );
    }
    let caption = params
        .get("caption")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if caption.chars().count() > 1024 {
        return api_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: message caption is too long",
        );
    }
    let mut inner = shared.lock();
    let message_id = inner.next_message_id;
    inner.next_message_id += 1;
    let size = file.bytes.len();
    let mut message = bot_message(message_id, private_chat(chat_id), None);
    if !caption.is_empty() {
        message["caption"] = json!(caption);
    }
    let file_id = format!("file{message_id}");
    if method.eq_ignore_ascii_case("sendphoto") {
        message["photo"] = json!([{
            "file_id": file_id, "file_unique_id": file_id,
            "width": 1, "height": 1, "file_size": size
        }]);
    } else {
        message["document"] = json!({
            "file_id": file_id, "file_unique_id": file_id,
            "file_name": file.file_name, "file_size": size
        });
    }
    inner.sent.push(Sent {
        method: method.to_owned(),
        chat_id,
        message_id,
        text: caption,
        body: Value::Object(params.clone()),
        file: Some(file),
    });
    drop(inner);
    shared.sent.notify_waiters();
    ok(message)
}

/// With a webhook set, POSTs pending updates to it one by one, in order,
/// with the secret-token header, as Telegram does; an update stays pending
/// until the bot answers 2xx (retried after a short wait).
async fn deliver_to_webhook(shared: Arc<Shared>) {
    loop {
        let notified = shared.updates.notified();
        let next = {
            let inner = shared.lock();
            inner
                .webhook
                .clone()
                .and_then(|hook| inner.pending.first().cloned().map(|u| (hook, u)))
        };
        let Some((hook, update)) = next else {
            // Woken by a new update or a new webhook; polled now and then anyway.
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
            continue;
        };
        let update_id = update["update_id"].as_i64().unwrap_or(0);
        let mut request = shared.http.post(&hook.url).json(&update);
        if let Some(secret) = &hook.secret_token {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        let status = match request.timeout(Duration::from_secs(60)).send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        let delivered = (200..300).contains(&status);
        {
            let mut inner = shared.lock();
            inner.deliveries.push((update_id, status));
            if delivered {
                inner
                    .pending
                    .retain(|u| u["update_id"].as_i64() != Some(update_id));
            }
        }
        if !delivered {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// A file in a multipart request: (field name, the file).
type UploadedFile = (String, SentFile);

/// Bot API requests come as JSON, form fields, query strings or (with a
/// file) multipart forms.
async fn parse_params(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Map<String, Value>, Option<UploadedFile>), String> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("multipart/form-data") {
        return parse_multipart(content_type, body.clone()).await;
    }
    Ok((parse_fields(content_type, body)?, None))
}

async fn parse_multipart(
    content_type: &str,
    body: Bytes,
) -> Result<(Map<String, Value>, Option<UploadedFile>), String> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| e.to_string())?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut params = Map::new();
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) => {
                let bytes = field.bytes().await.map_err(|e| e.to_string())?.to_vec();
                file = Some((name, SentFile { file_name, bytes }));
            }
            None => {
                let text = field.text().await.map_err(|e| e.to_string())?;
                let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                params.insert(name, value);
            }
        }
    }
    Ok((params, file))
}

fn parse_fields(content_type: &str, body: &Bytes) -> Result<Map<String, Value>, String> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> =
            serde_urlencoded_pairs(body).map_err(|e| format!("can't parse form: {e}"))?;
        return Ok(pairs
            .into_iter()
            .map(|(k, v)| {
                let value = serde_json::from_str(&v).unwrap_or(Value::String(v));
                (k, value)
            })
            .collect());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("the body must be a JSON object".into()),
        Err(e) => Err(format!("can't parse JSON: {e}")),
    }
}

fn serde_urlencoded_pairs(body: &Bytes) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|e| e.to_string())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// A message from the bot, as the Bot API shows it.
fn bot_message(message_id: i64, chat: Value, text: Option<&str>) -> Value {
    let mut message = json!({
        "message_id": message_id,
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Tabletalk Test", "username": BOT_USERNAME},
        "chat": chat,
        "date": unix_now(),
    });
    if let Some(text) = text {
        message["text"] = json!(text);
    }
    message
}

/// The private chat the fake answers in.
fn private_chat(chat_id: i64) -> Value {
    json!({"id": chat_id, "type": "private", "first_name": "Test"})
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn api_error(status: StatusCode, description: &str) -> Response {
    (
        status,
        Json(json!({"ok": false, "error_code": status.as_u16(), "description": description})),
    )
        .into_response()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_are_decoded() {
        let pairs = serde_urlencoded_pairs(&Bytes::from_static(b"chat_id=5&text=hello+w%C3%B6rld"))
            .expect("valid");
        assert_eq!(pairs[1], ("text".into(), "hello wörld".into()));
        assert!(percent_decode("%zz").is_err());
    }
}
