"""Fixed texts the engine sends to a model on the user's behalf."""

CONTINUE_PROMPT = (
    "Continue exactly where your previous answer stopped. "
    "Do not repeat anything already written and do not add any preamble."
)
