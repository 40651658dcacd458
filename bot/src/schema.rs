//! The handler tree: which update goes to which handler.

use crate::{text, Command};
use teloxide::dispatching::{HandlerExt, UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;

/// Commands first, then other text.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    Update::filter_message()
        .branch(
            dptree::entry()
                .filter_command::<Command>()
                .endpoint(on_command),
        )
        .branch(
            dptree::filter(|msg: Message| msg.text().is_some_and(|t| t.starts_with('/')))
                .endpoint(on_unknown_command),
        )
        .branch(dptree::filter(|msg: Message| msg.text().is_some()).endpoint(on_text))
}

#[tracing::instrument(skip_all, fields(chat = %msg.chat.id))]
async fn on_command(bot: Bot, msg: Message, cmd: Command) -> anyhow::Result<()> {
    let reply = match cmd {
        Command::Start(_payload) => {
            let name = msg.from.as_ref().map_or("there", |u| u.first_name.as_str());
            text::welcome(name)
        }
        Command::Help => text::help(),
    };
    bot.send_message(msg.chat.id, reply).await?;
    Ok(())
}

async fn on_unknown_command(bot: Bot, msg: Message) -> anyhow::Result<()> {
    bot.send_message(msg.chat.id, text::unknown_command())
        .await?;
    Ok(())
}

async fn on_text(bot: Bot, msg: Message) -> anyhow::Result<()> {
    bot.send_message(msg.chat.id, text::questions_not_ready())
        .await?;
    Ok(())
}
