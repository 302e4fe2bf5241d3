"""The shared kernel every context speaks: the shape of facts and commands, refusals, money, taxes, dates."""
