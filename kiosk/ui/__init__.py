"""The touchscreen app: ``controller`` (pure logic) and the Kivy side (``app``, ``screens``,
``widgets``, ``theme``); ``launch`` wires them to the real models and devices."""
