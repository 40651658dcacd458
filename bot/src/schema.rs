//! The handler tree: which update goes to which handler. Nothing else lives
//! here; each command's work is in `handlers/<area>.rs`.

use crate::handlers::{self, account, emails, invitations, questions};
use crate::{Command, TgBot};
use services::AppState;
use teloxide::dispatching::{HandlerExt, UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;

/// Every sender is remembered (or refreshed); then commands, then other
/// text. Button presses go to their handler.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry().branch(messages()).branch(
        Update::filter_callback_query()
            .filter(|q: CallbackQuery| emails::is_email_button(&q))
            .endpoint(|bot: TgBot, state: AppState, q: CallbackQuery| async move {
                emails::on_button(&bot, &state, &q).await
            }),
    )
}

fn messages() -> UpdateHandler<anyhow::Error> {
    Update::filter_message()
        .inspect_async(account::remember_sender)
        .branch(
            dptree::entry()
                .filter_command::<Command>()
                .endpoint(on_command),
        )
        .branch(
            dptree::filter(|msg: Message| msg.text().is_some_and(|t| t.starts_with('/'))).endpoint(
                |bot: TgBot, msg: Message| async move {
                    handlers::reply(&bot, &msg, Ok(account::unknown_command())).await
                },
            ),
        )
        .branch(
            dptree::filter(|msg: Message| msg.text().is_some()).endpoint(
                |bot: TgBot, state: AppState, msg: Message| async move {
                    questions::ask(&bot, &state, &msg).await
                },
            ),
        )
}

/// One command to its handler; every outcome goes through one reply path.
#[tracing::instrument(skip_all, fields(chat = %msg.chat.id))]
async fn on_command(bot: TgBot, state: AppState, msg: Message, cmd: Command) -> anyhow::Result<()> {
    let outcome = match cmd {
        Command::Start(payload) => account::start(&state, &msg, &payload).await,
        Command::Help => Ok(account::help()),
        Command::Join(code) => invitations::join(&state, &msg, &code).await,
    };
    handlers::reply(&bot, &msg, outcome).await
}
