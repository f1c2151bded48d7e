"""Takedown writes, by concern: complaints (filing), moderation (decisions), sellers (answers, strikes,
suspensions), standing (complainant accuracy), notifications (in-app, email, webhooks), deadlines."""
