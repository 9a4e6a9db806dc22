"""Release: when each file goes live, the outbox of e-mails, sending it, and publishing."""
