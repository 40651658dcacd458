-- Functions a database's owner allows in questions by name (issue 29): the
-- guard allows a function only when the engine says it has no side effects or
-- it is a documented built-in; a database's own functions (MySQL, SQL Server,
-- a VOLATILE PostgreSQL one) run only when listed here. Space-separated lower
-- case names; NULL is none. The refused families can never be listed.
-- Twin of migrations/sqlite/0017_allowed_functions.sql; keep them in step.
ALTER TABLE database_connections ADD COLUMN allowed_functions TEXT;
