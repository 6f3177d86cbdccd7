"""How a user (an agent) is named wherever a person reads it: timelines, events, presence, the
chat widget's "Alice is typing". One definition, so an agent is never "alice" in one place and
"Alice Smith" in another."""


def display_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
