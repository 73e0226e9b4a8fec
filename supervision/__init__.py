"""Supervision (督办): key suggestions' progress reports, sampled re-checks, follow-up reviews, the
look-back over earlier years, and classes of similar suggestions.

Its own app because it is the district office's work *on top of* the handling, with records of its
own (campaigns, samples, findings, reviews, classes, the similarity index) that the handling never
reads: `suggestions` stays the record of each item, and this app changes an item only through
`suggestions.workflow` (the "supervision" section there), so that every step is on the item's
timeline. Imports point one way: departments ← suggestions ← supervision.
"""
