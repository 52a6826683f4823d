"""The analytics gateway: every event enters the outbox (`intake`) and leaves it through `delivery`.

`scheduling` asks for a delivery after each commit, `senders` talk to PostHog (or the log), and
`enrichment` holds what the apps owning the data registered to add to each event at delivery.
"""
