"""Lineage: every artifact's id and parents, read from the stores that made them, plus a store for the rest.

Light on purpose: the services that record facts import `lineage.record`; queries live in `lineage.service`."""
