//! The handler tree: which update goes to which handler. Nothing else lives
//! here; each command's work is in `handlers/<area>.rs`.

use crate::callback::Callback;
use crate::dialogue::{AddDb, AddDbDialogue, StoreStorage};
use crate::handlers::{
    self, account, adddb, buttons, databases, emails, invitations, org, questions, usage,
};
use crate::menus::Menus;
use crate::{Command, TgBot};
use services::AppState;
use std::sync::Arc;
use teloxide::dispatching::{HandlerExt, UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;

/// Every sender is remembered (or refreshed); then commands, then other
/// text. Button presses go to [`on_press`].
pub fn schema() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .inspect(|update: Update| services::metrics::bot_update(update_kind(&update)))
        .branch(messages())
        .branch(presses())
}

/// A press on a button of ours, typed; any other data is refused.
fn presses() -> UpdateHandler<anyhow::Error> {
    Update::filter_callback_query()
        .branch(
            dptree::filter_map(|q: CallbackQuery| q.data.as_deref().and_then(Callback::parse))
                .endpoint(on_press),
        )
        .branch(dptree::endpoint(
            |bot: TgBot, q: CallbackQuery| async move { buttons::unknown(&bot, &q).await },
        ))
}

/// The update's kind, as the metrics count it.
fn update_kind(update: &Update) -> &'static str {
    use teloxide::types::UpdateKind;
    match &update.kind {
        UpdateKind::Message(m) if m.text().is_some_and(|t| t.starts_with('/')) => "command",
        UpdateKind::Message(_) => "message",
        UpdateKind::EditedMessage(_) => "edited_message",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::MyChatMember(_) | UpdateKind::ChatMember(_) => "membership",
        _ => "other",
    }
}

fn messages() -> UpdateHandler<anyhow::Error> {
    Update::filter_message()
        .inspect_async(account::remember_sender)
        .enter_dialogue::<Message, StoreStorage, AddDb>()
        .branch(
            dptree::entry()
                .filter_command::<Command>()
                .endpoint(on_command),
        )
        .branch(
            // An unknown command: answered in a private chat, or in a group when
            // it names this bot (a group's other bots have their own commands).
            dptree::filter(|msg: Message, me: teloxide::types::Me| {
                msg.text().is_some_and(|t| {
                    t.starts_with('/')
                        && (msg.chat.is_private()
                            || questions::without_mention(t, me.username()).is_some())
                })
            })
            .endpoint(|bot: TgBot, msg: Message| async move {
                handlers::reply(
                    &bot,
                    &msg,
                    Ok::<_, models::AppError>(account::unknown_command()),
                )
                .await
            }),
        )
        // A guided step under way takes the text before it can be a question.
        .branch(dptree::case![AddDb::Name].endpoint(
            |bot: TgBot, msg: Message, dialogue: AddDbDialogue| async move {
                adddb::name(&bot, &msg, &dialogue).await
            },
        ))
        .branch(dptree::case![AddDb::Kind { name }].endpoint(
            |bot: TgBot, msg: Message| async move { adddb::expect_button(&bot, &msg).await },
        ))
        .branch(dptree::case![AddDb::Connection { name, kind }].endpoint(
            |bot: TgBot,
             state: AppState,
             msg: Message,
             dialogue: AddDbDialogue,
             (name, kind): (String, models::targets::TargetKind)| async move {
                adddb::connection(&bot, &state, &msg, &dialogue, name, kind).await
            },
        ))
        .branch(dptree::case![AddDb::TimedOut].endpoint(
            |bot: TgBot, msg: Message, dialogue: AddDbDialogue| async move {
                adddb::timed_out(&bot, &msg, &dialogue).await
            },
        ))
        .branch(
            dptree::filter(|msg: Message| msg.text().is_some()).endpoint(
                |bot: TgBot, state: AppState, msg: Message, me: teloxide::types::Me| async move {
                    questions::ask(&bot, &state, &msg, &me).await
                },
            ),
        )
}

/// One command to its handler; every outcome goes through one reply path.
#[tracing::instrument(skip_all, fields(chat = %msg.chat.id))]
async fn on_command(
    bot: TgBot,
    state: AppState,
    msg: Message,
    cmd: Command,
    dialogue: AddDbDialogue,
    menus: Menus,
) -> anyhow::Result<()> {
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
        Command::AddDb => adddb::start(s, m, &dialogue).await,
        Command::SelectDb => databases::choose(s, m).await,
        Command::RemoveDb => databases::choose_removal(s, m).await,
        Command::Dashboard => account::dashboard(s, m).await.map(Reply::from),
        Command::Stats => usage::stats(s, m).await.map(Reply::from),
        Command::History => usage::history(s, m).await.map(Reply::from),
        Command::Clear => usage::clear(s, m).await,
        Command::ForgetMe => usage::forget_me(s, m).await,
        Command::Costs => usage::costs(s, m).await.map(Reply::from),
        Command::Email(address) => account::email(s, m, &address).await.map(Reply::from),
        Command::Cancel => adddb::cancel(&dialogue).await.map(Reply::from),
        Command::Admin(args) => account::admin(s, m, &args).await.map(Reply::from),
    };
    let replied = handlers::reply(&bot, &msg, outcome).await;
    // The command may have changed the person's role (founding, joining, leaving).
    menus.refresh(&bot, &state, &msg).await;
    replied
}

/// One press to its handler. Each handler looks the presser up again and
/// the service it calls checks their access: the button only asks.
#[tracing::instrument(skip_all, fields(press = ?pressed))]
async fn on_press(
    bot: TgBot,
    state: AppState,
    q: CallbackQuery,
    pressed: Callback,
    dialogues: Arc<StoreStorage>,
    menus: Menus,
) -> anyhow::Result<()> {
    use handlers::Reply;
    let (s, p) = (&state, &q);
    let outcome: Result<Reply, models::AppError> = match pressed {
        Callback::UseDb(id) => databases::select(s, p, &id).await.map(Reply::from),
        Callback::RemoveDb(id) => databases::confirm_remove(s, p, &id).await,
        Callback::RemoveDbConfirmed(id) => databases::remove(s, p, &id).await.map(Reply::from),
        Callback::Leave => org::leave_confirmed(s, p).await.map(Reply::from),
        Callback::Clear => usage::clear_confirmed(s, p).await.map(Reply::from),
        Callback::ForgetMe => usage::forget_me_confirmed(s, p).await.map(Reply::from),
        Callback::Dismiss => Ok(Reply::from("Nothing was changed.")),
        Callback::AddDbKind(kind) => {
            let Some(chat) = q.regular_message().map(|m| m.chat.id) else {
                return Ok(());
            };
            let dialogue = AddDbDialogue::new(dialogues, chat);
            return buttons::show(&bot, p, adddb::on_kind(&dialogue, kind).await).await;
        }
        Callback::SendEmail(id) => {
            return emails::on_button(&bot, s, p, id, emails::Choice::Send).await
        }
        Callback::CancelEmail(id) => {
            return emails::on_button(&bot, s, p, id, emails::Choice::Cancel).await
        }
    };
    let shown = buttons::show(&bot, p, outcome).await;
    // The press may have changed the person's role (leaving).
    menus.refresh_after_press(&bot, &state, p).await;
    shown
}
