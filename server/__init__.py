"""The network servers: the HTTP API, the dashboard, and the development SMTP sink."""
