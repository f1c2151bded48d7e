"""REST API of the takedown workflow: complainants, moderators, sellers, notifications and webhooks."""
