"""Use cases: the club's workflows, over the store and narrow ports for their side effects on Discord."""
