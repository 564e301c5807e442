"""Every page (`web/`) and every mail (`email/`) Plein renders, and the files its pages load.

A package only so that they ship inside Plein's wheel: `hub.templating` finds them here.
"""
