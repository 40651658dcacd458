-- The outbox carries answers and reaches group chats (issue 27): a row may
-- name the chat it goes to (a group where the bot is) instead of the
-- person's private chat, and may carry a whole answer (models::ask::Answered
-- as JSON: the words, the rows, the SQL, the cost), which the bot renders
-- exactly like a live one (text, table, chart, CSV). The person stays the
-- row's owner: their messages go out in order, and /forgetme removes what
-- is still waiting. The answer is cleared once the row is sent or given up.
-- Twin of migrations/sqlite/0015_outbox_answers.sql; keep them in step.
ALTER TABLE outbox ADD COLUMN chat_id BIGINT;  -- NULL: the person's private chat
ALTER TABLE outbox ADD COLUMN answer TEXT;     -- NULL: the text is the message
