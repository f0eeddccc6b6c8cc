"""The curator studio: a local web page over a content pack, where curators write, check, try
and publish the kiosk's content. The back ends are plain modules (no web code):
``yamledit`` (the pack's YAML files, read and written in place), ``yamltree`` (their trees
edited), ``pictures`` (uploads made ready), ``publish`` (build, sign, write out),
``suite`` (saved test questions) and ``visitors`` (the kiosks' insights turned into content).
"""
