"""The implementations of the ``kiosk`` verbs, one module per verb or group of verbs.

``kiosk.cli`` builds the parser and dispatches here, importing each module only when its verb
runs (so ``kiosk --help`` stays quick): ``ask`` (typed and spoken questions, and how an answer
is shown or printed as JSON), ``listen`` (the microphone loop, also ``run --headless``), ``run``
(the touchscreen app), ``content`` (validate, build, keygen, sync, rollback, status,
import-csv), ``models`` (list, install, verify) and ``evaluate`` (``kiosk eval``).
"""
