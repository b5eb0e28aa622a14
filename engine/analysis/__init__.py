"""Looking at packs as a whole: their own test cases and coverage (:mod:`.tester`), ``skillcert validate``
(:mod:`.validation`).

May import the library and everything below it; the command line and the server stand above it.
"""
