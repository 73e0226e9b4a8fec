"""The audit trail: who changed what, when, from where and through which channel.

Why its own app: the trail watches every other app (departments, suggestions, supervision, the
users and groups of `auth`) through model signals and must not depend on any of them, nor they on
it. Keeping it apart lets the record stay append-only with one model and one set of receivers,
and lets an app be added to the trail by naming it in `settings.AUDITED_APPS`, with no change to
that app's code. The workflow's `Event` rows tell the story of one suggestion for its readers;
this trail is the raw record of every row written, for the office's supervision of the system.
"""
