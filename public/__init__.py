"""The public transparency pages (公开): published replies, for anyone, without logging in.

Its own app because it is the one part of the product facing the public: it reads suggestions
through its own narrow query (replied, marked public) and shows only what may be published, never
through the logged-in pages' scope or templates, so that nothing internal can leak in by a change
made for the staff's pages. Phone numbers are stripped from what it shows (public.redact).
"""
