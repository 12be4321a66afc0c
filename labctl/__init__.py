"""labctl: drives the pykubelet lab (Vagrant machines provisioned by ansible/site.yml) from Python.

``./lab up|status|ssh|walkthrough|down`` end up here (``python -m labctl``); ``./lab setup`` calls
``python -m labctl setup`` for the parts of the set-up that need the venv (Ansible collections, Vagrant).
"""
