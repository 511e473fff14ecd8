"""Demo data for the local demo, the tests and the benchmarks: never part of the product.

DEMO ONLY. ``demo.rostergen`` writes realistic, messy roster files; ``demo.load`` loads them
through the product's real import and creates the demo staff login; the ``load_demo``
management command runs it. The app is installed by the dev and test settings only; the
product packages (villages, funds, publicity, api, config) never import it.
"""
