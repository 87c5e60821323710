"""Use cases: the club's workflows, taking the store and narrow ports for their Discord side effects."""
