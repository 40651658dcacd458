//! The handler tree: which update goes to which handler. Nothing else lives
//! here; each command's work is in `handlers/<area>.rs`.

use crate::handlers::{
    self, account, buttons, databases, emails, invitations, org, questions, usage,
};
use crate::{Command, TgBot};
use services::AppState;
use teloxide::dispatching::{HandlerExt, UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;

/// Every sender is remembered (or refreshed); then commands, then other
/// text. Button presses go to their handler.
pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .branch(messages())
        .branch(
            Update::filter_callback_query()
                .filter(|q: CallbackQuery| emails::is_email_button(&q))
                .endpoint(|bot: TgBot, state: AppState, q: CallbackQuery| async move {
                    emails::on_button(&bot, &state, &q).await
                }),
        )
        .branch(
            Update::filter_callback_query()
                .filter(|q: CallbackQuery| buttons::is_ours(&q))
                .endpoint(|bot: TgBot, state: AppState, q: CallbackQuery| async move {
                    buttons::on_press(&bot, &state, &q).await
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
    use handlers::Reply;
    let (s, m) = (&state, &msg);
    let outcome: Result<Reply, models::AppError> = match cmd {
        Command::Start(payload) => account::start(s, m, &payload).await.map(Reply::from),
        Command::Help => account::help(s, m).await.map(Reply::from),
        Command::MyInfo => usage::my_info(s, m).await.map(Reply::from),
        Command::CreateOrg(name) => org::create(s, m, &name).await.map(Reply::from),
        Command::Org | Command::OrgInfo => org::info(s, m).await.map(Reply::from),
        Command::Members => org::members(s, m).await.map(Reply::from),
        Command::Invite(args) => org::invite(&bot, s, m, &args).await.map(Reply::from),
        Command::Join(code) => invitations::join(s, m, &code).await.map(Reply::from),
        Command::Leave => org::leave(s, m).await,
        Command::RemoveMember(who) => org::remove_member(s, m, &who).await.map(Reply::from),
        Command::SelectDb => databases::choose(s, m).await,
        Command::RemoveDb => databases::choose_removal(s, m).await,
        Command::Dashboard => account::dashboard(s, m).await.map(Reply::from),
        Command::Stats => usage::stats(s, m).await.map(Reply::from),
        Command::History => usage::history(s, m).await.map(Reply::from),
        Command::Clear => usage::clear(s, m).await,
        Command::Costs => usage::costs(s, m).await.map(Reply::from),
        Command::Email(address) => account::email(s, m, &address).await.map(Reply::from),
        Command::Cancel => Ok(Reply::from(account::cancel())),
    };
    handlers::reply(&bot, &msg, outcome).await
}
