-- The code check (issue 13): for clients with verify_binding_message, the binding message and two
-- look-alikes in the order the page shows them (a JSON array of three strings), made when the request
-- is created; NULL when the check is off. A wrong pick sets code_locked: from then on only Deny.
ALTER TABLE login_requests ADD COLUMN binding_message_choices TEXT;
ALTER TABLE login_requests ADD COLUMN code_locked INTEGER NOT NULL DEFAULT 0;
