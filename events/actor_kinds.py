"""What sort of actor one is; apart from `events.actors` so that the command line can offer
the choice without building the registry's event classes at every start (issue 16: `add`)."""

ACTOR_KINDS = ("person", "government", "organisation", "place")
