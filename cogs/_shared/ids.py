"""What a member sees when a forged or outdated button, menu or choice names nothing (see `bot.domain.ids`)."""

STALE_COMPONENT = "That button or menu is no longer valid; run the command again."
